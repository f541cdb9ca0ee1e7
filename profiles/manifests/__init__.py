"""Manifests: the Kubernetes objects of one deployment, built once as plain dicts from a serving plan and used by
both `manifests create` and the Pulumi components. pod.py sizes and builds the pod template, objects.py the
Deployment, Service, ServiceAccount, PDB, NetworkPolicy, PodMonitoring and HPA, render.py the YAML and comments.
Imports serving/, gke/ (node boot disk, adapter metric names), selection/, catalog/.
"""
