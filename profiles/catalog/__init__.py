"""Catalog: the facts every other part reads, loaded once from data/ (one fact, one file, each row with a source).

Owns accelerators, machine types, TPU topologies, prices, model shapes (and a local config.json's), pinned
server images and vLLM's scheduler defaults (catalog.py, modelspec.py, csvdata.py), the request-length workloads
(workload.py: GIQ's ShareGPT table as a seeded distribution) and the latency statistics the harness and the
estimator share (stats.py). Imports only profiles.errors.
"""
