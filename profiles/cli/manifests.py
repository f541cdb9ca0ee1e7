"""`manifests create`: gcloud's verb, offline, from the same builder the Pulumi program uses."""

from __future__ import annotations

import argparse
from pathlib import Path

from profiles.commands import Output
from profiles.errors import UsageError
from profiles.files import write_atomically
from profiles.manifests import ManifestOptions, build, parse_bucket_uri, resolve
from profiles.manifests_pod import ModelSource, size_pod
from profiles.manifests_render import comments, generated_on, generator, render
from profiles.selection import Pricing, Targets
from profiles.serving import plan_serving


def write_output_path(path: Path, text: str) -> None:
    """--output-path, checked first, then written atomically: a failed run never leaves a half-written manifest."""
    path = path.expanduser()
    if path.is_dir():
        raise UsageError(f"--output-path: '{path}' is a directory; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"--output-path: directory '{path.parent}' does not exist")
    write_atomically(path, text)


def manifests_create(args: argparse.Namespace) -> Output:
    targets = Targets(ntpot_ms=args.target_ntpot_milliseconds, ttft_ms=args.target_ttft_milliseconds,
                      itl_ms=args.target_itl_milliseconds)
    plan = plan_serving(args.model, args.accelerator_type, args.model_server, args.model_server_version, targets,
                        Pricing(args.pricing_model), args.max_model_len, args.hpa_metric, args.hpa_buffer, args.peak_qps,
                        args.min_replicas, args.max_replicas, args.profiles_dir, args.use_case)
    source = parse_bucket_uri(args.model_bucket_uri) if args.model_bucket_uri else ModelSource()
    date = generated_on()
    opts = resolve(plan, ManifestOptions(name=args.name or "", namespace=args.namespace, source=source,
                                         service_type=args.service_type, autopilot=args.autopilot, spot=args.spot,
                                         surge=args.surge, generated_by=generator(plan, date)))
    objects = build(plan, opts)
    text = render(objects, comments(plan, opts, size_pod(plan, source), date), args.output)
    if args.output_path:
        write_output_path(Path(args.output_path), text)
        return Output("", f"Output saved to {args.output_path}")
    return Output(text)
