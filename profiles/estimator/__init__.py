"""Estimator: throughput and latency of a model on an accelerator shape without measuring it. step_time.py is
the roofline step-time model with fitted efficiencies, simulator.py the vLLM V1 scheduler simulation,
estimate.py one load point, curves.py the shipped estimated curves (make profiles), calibrate.py the fit on
published rows (make calibrate / accuracy). Imports serving/ (memory fit), store/ (records), catalog/; never
the harness.
"""
