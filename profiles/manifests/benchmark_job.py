"""`benchmark job`: a Kubernetes Job that runs `benchmark run` inside the cluster against the model's Service.

Measuring through `kubectl port-forward` puts the API server's tunnel (one TCP stream per connection, relayed
through the control plane) between the load generator and vLLM, with its own throughput ceiling; GKE's tools
run the load generator in the cluster. The Job runs the same harness (`python -m profiles benchmark run`) with
the same flags, against `http://<service>.<namespace>.svc.cluster.local:<port>`, and writes its files under
RESULTS_DIR: a GCS bucket mounted with the GCS FUSE CSI driver (the KSA needs write access to it: direct Workload
Identity, or `--gcp-service-account` for the annotated-KSA form), an existing PersistentVolumeClaim, or an
emptyDir (then only the pod's log keeps the table).

The pod meets Pod Security "restricted" and the same checkov checks as the model's Deployment: non-root high
UID, read-only root filesystem (a /tmp emptyDir for HOME and matplotlib), no capabilities, RuntimeDefault
seccomp, no service-account token, CPU/memory requests = limits. The image must be pinned (a version tag or a
digest, never `latest`); build it from this repository (`Dockerfile.benchmark`). `backoffLimit: 0`: a failed
benchmark is reported, not silently rerun against a server it already loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from profiles.errors import UsageError
from profiles.manifests import gcsfuse
from profiles.manifests.objects import slug
from profiles.manifests.pod import RUN_AS

RESULTS_DIR = "/results"
_PINNED = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")


@dataclass(frozen=True)
class JobOptions:
    model: str
    service: str
    image: str
    namespace: str = "default"
    port: int = 8000
    name: str = ""  # default: benchmark-<service>
    results_bucket: str = ""
    results_pvc: str = ""
    gcp_service_account: str = ""  # annotated-KSA Workload Identity (else direct Workload Identity on the KSA)
    run_args: tuple[str, ...] = ()  # `benchmark run` flags besides --endpoint/--model/--metrics-url/--output
    cpu: int = 4
    memory_gib: int = 4
    deadline_s: int = 6 * 3600

    @property
    def job_name(self) -> str:
        return self.name or slug(f"benchmark-{self.service}", 52)

    @property
    def endpoint(self) -> str:
        return f"http://{self.service}.{self.namespace}.svc.cluster.local:{self.port}"


def check_image(image: str) -> str:
    """A pinned image reference: `repo:tag` (not latest) or `repo@sha256:…`."""
    has_digest = "@sha256:" in image
    tag = image.split("@")[0].rsplit("/", 1)[-1].partition(":")[2]
    if not _PINNED.match(image) or (not has_digest and (not tag or tag == "latest")):
        raise UsageError(f"--image: '{image}' is not pinned; give a version tag (not latest) or @sha256:<digest>")
    return image


def command(opts: JobOptions) -> list[str]:
    """The container's command: `benchmark run` against the Service, files under $(RESULTS_DIR)/<job name>."""
    return ["python", "-m", "profiles", "benchmark", "run", "--endpoint", opts.endpoint, "--model", opts.model,
            "--metrics-url", f"{opts.endpoint}/metrics", "--output", f"$(RESULTS_DIR)/{opts.job_name}", *opts.run_args]


def _labels(opts: JobOptions) -> dict[str, str]:
    return {"app.kubernetes.io/name": "benchmark", "app.kubernetes.io/instance": opts.job_name,
            "app.kubernetes.io/component": "load-generator", "app.kubernetes.io/part-of": "gke-inference",
            "ai.gke.io/model": slug(opts.model)}


def service_account(opts: JobOptions) -> dict:
    meta: dict = {"name": opts.job_name, "namespace": opts.namespace, "labels": _labels(opts)}
    if opts.gcp_service_account:
        meta["annotations"] = {"iam.gke.io/gcp-service-account": opts.gcp_service_account}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False}


def _results_volume(opts: JobOptions) -> dict:
    if opts.results_bucket:
        return gcsfuse.bucket_volume("results", opts.results_bucket, "", read_only=False, run_as=RUN_AS)
    if opts.results_pvc:
        return {"name": "results", "persistentVolumeClaim": {"claimName": opts.results_pvc}}
    return {"name": "results", "emptyDir": {"sizeLimit": "1Gi"}}


def job(opts: JobOptions) -> dict:
    resources = {"cpu": str(opts.cpu), "memory": f"{opts.memory_gib}Gi", "ephemeral-storage": "2Gi"}
    container = {
        "name": "benchmark", "image": check_image(opts.image), "imagePullPolicy": "Always",
        "command": command(opts),
        "env": [{"name": "RESULTS_DIR", "value": RESULTS_DIR}, {"name": "HOME", "value": "/tmp"},
                {"name": "MPLCONFIGDIR", "value": "/tmp/matplotlib"}, {"name": "PYTHONUNBUFFERED", "value": "1"}],
        "resources": {"requests": resources, "limits": resources},
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                            "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, {"name": "results", "mountPath": RESULTS_DIR}],
    }
    template_meta: dict = {"labels": _labels(opts)}
    if opts.results_bucket:
        template_meta["annotations"] = dict(gcsfuse.INJECT)
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": opts.job_name, "namespace": opts.namespace, "labels": _labels(opts),
                     "annotations": {"gke-inference.dev/endpoint": opts.endpoint}},
        "spec": {
            "backoffLimit": 0, "activeDeadlineSeconds": opts.deadline_s, "ttlSecondsAfterFinished": 7 * 86400,
            "template": {
                "metadata": template_meta,
                "spec": {
                    "serviceAccountName": opts.job_name, "automountServiceAccountToken": False, "restartPolicy": "Never",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}}, _results_volume(opts)],
                },
            },
        },
    }


def network_policy(opts: JobOptions) -> dict:
    """The load generator accepts no connections (ingress denied); egress stays open for the Service and GCS."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": opts.job_name, "namespace": opts.namespace, "labels": _labels(opts)},
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": opts.job_name,
                                                     "app.kubernetes.io/component": "load-generator"}},
                     "policyTypes": ["Ingress"]}}


def build_job(opts: JobOptions) -> list[dict]:
    """ServiceAccount + NetworkPolicy + Job, in apply order."""
    if opts.results_bucket and opts.results_pvc:
        raise UsageError("--results-bucket and --results-pvc: give one place for the results")
    if slug(opts.job_name) != opts.job_name:
        raise UsageError(f"--name: '{opts.job_name}' is not a DNS-1123 label (lower-case letters, digits, '-')")
    return [service_account(opts), network_policy(opts), job(opts)]
