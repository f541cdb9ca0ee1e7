"""Offline GKE Inference Quickstart engine: catalogs, profile store, selection, cost and CLI.

Pure Python on purpose: the Pulumi program imports this package, never the other way round.
"""

__version__ = "0.1.0"
