"""gke-inference's engine: the GKE Inference Quickstart offline, as pure Python (never imports Pulumi).

Sub-packages, lowest first; a package imports only packages below it:
  catalog/    hardware, prices, models, workloads, shared statistics (data/ holds every fact with its source)
  store/      profile points in a pandas DataFrame: loading, validation, precedence, versions, curves
  selection/  operating points, cost, ranking, HPA settings, --explain, the single choose step
  serving/    memory fit, model source, the serving plan, model servers (servers/vllm.py: the seam)
  gke/ estimator/ harness/    cluster and pool arguments; estimated curves; `benchmark run`
  manifests/  the Kubernetes objects of a deployment (one builder for the CLI and Pulumi)
  stack/ cli/ the Pulumi program's plan; `python -m profiles`
errors.py and files.py are shared by all.
"""

__version__ = "0.1.0"
