"""Deployable or reference-only: can the manifests builder reproduce a profile's serving setup exactly?

Today that means: a server with a pinned image for the accelerator's platform (vLLM on GPU and TPU, data/
model_servers.csv), one replica, tensor parallelism over every accelerator of the shape, no speculative decoding,
no dependence on prefix-cache hits across requests, a weight format the manifests render (the checkpoint as stored,
or fp8 quantized on load) and every scheduler flag known. Reference-only rows still appear in `list` and
`benchmarks list`, marked, but are never chosen for a deployment.
"""

from __future__ import annotations

from profiles.catalog.catalog import Catalog
from profiles.store.points import ProfilePoint

REFERENCE_MARK = "reference†"
FOOTNOTE = ("† reference-only: a published benchmark of a setup the manifests cannot reproduce (another server, several "
            "replicas, speculative decoding, prefix-cache hits across requests, a pre-quantized checkpoint or flags not "
            "stated); listed for comparison, never deployed. Reasons: --format json (extension.referenceOnly) or --explain.")
FOOTNOTE_HIDDEN = ("Some rows are reference-only (published benchmarks of setups the manifests cannot reproduce; listed for "
                   "comparison, never deployed): --show-extras adds the Deployable column, --format json has "
                   "extension.deployable and extension.referenceOnly.")


def reference_reasons(catalog: Catalog, p: ProfilePoint) -> list[str]:
    """Why this point's setup cannot be deployed as profiled; [] when it can."""
    reasons = []
    acc = catalog.accelerators.get(p.accelerator_type)
    if acc is None or catalog.image(p.model_server, acc.kind) is None:
        reasons.append(f"no manifests for {p.model_server} on {acc.kind if acc else p.accelerator_type}")
    if p.data_parallel != 1:
        reasons.append(f"measured on {p.data_parallel} data-parallel replicas" if p.data_parallel else "replicas not stated")
    if p.speculative_decoding != "none":
        reasons.append(f"speculative decoding ({p.speculative_decoding})" if p.speculative_decoding
                       else "speculative decoding not stated")
    if p.prefix_caching == "hits":
        reasons.append("numbers depend on prefix-cache hits across requests")
    elif not p.prefix_caching:
        reasons.append("prefix caching not stated")
    if p.quantization == "pre-quantized":
        reasons.append(f"pre-quantized checkpoint ({p.checkpoint or 'unnamed'})")
    elif p.quantization == "on-load" and p.precision != "fp8":
        reasons.append(f"{p.precision} quantization on load (manifests render fp8 only)")
    elif not p.quantization:
        reasons.append("weight quantization not stated")
    if not p.kv_cache_dtype:
        reasons.append("KV-cache dtype not stated")
    missing = [name for name, value in (("max-num-seqs", p.max_num_seqs), ("max-num-batched-tokens", p.max_num_batched_tokens),
                                        ("max-model-len", p.max_model_len)) if value is None]
    if missing:
        reasons.append(f"{', '.join(missing)} not stated")
    if acc is not None and p.tensor_parallel != p.accelerator_count * acc.chips_per_device:
        reasons.append(f"tensor parallel {p.tensor_parallel or 'not stated'} on {p.accelerator_count} x {p.accelerator_type}")
    return reasons


def reference_reason(catalog: Catalog, p: ProfilePoint) -> str:
    """'' when deployable, else the reasons in one line."""
    return "; ".join(reference_reasons(catalog, p))
