"""GKE: pulumi-gcp arguments for clusters and node pools as plain data (cluster.py, node_pools.py), Workload
Identity principals and IAM roles (identity.py), the kubeconfig (kubeconfig.py) and the custom-metrics adapter's
upstream objects (adapter.py). Imports catalog/ only; nothing here imports Pulumi or the pod template.
"""
