"""Harness: `benchmark run` against an OpenAI-compatible endpoint. client.py sends streaming requests and scrapes
server gauges, run.py schedules stages and the automatic sweep, records.py summarises stages, prometheus.py
parses gauges, prompts.py builds prompts of N tokens, report.py and plot.py write the measured profile and the
PNG, local_vllm.py serves a tiny model with the real vLLM on loopback (tests, demo), overhead.py measures client
time (make bench-client). Imports selection/, serving/ (server gauges), store/, catalog/; never the estimator.
"""
