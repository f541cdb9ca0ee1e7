"""Checks every input path shares (issue #17): names that end up in YAML, commands or URLs; numbers; files.

Nothing a user supplies may become YAML structure, a mount option or a second line of a comment: names are
checked against the rule of the system that reads them (DNS-1123 labels, GCS bucket and object names), and
free text (comment lines, descriptions read from profile files) is folded onto one line. Numbers must be
finite and within bounds; files must be regular, not too large, and UTF-8. YAML is loaded without aliases
(no alias bombs), with duplicate keys rejected.
"""

from __future__ import annotations

import math
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from profiles.errors import UsageError

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# namespaces Kubernetes or GKE own: a workload there would share them with the control plane's components
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "gke-managed-system", "gke-system", "gmp-system",
                     "gmp-public", "gke-gmp-system", "gke-managed-cim", "config-management-system", "istio-system")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")
MAX_FILE_BYTES = 64 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]+")


def one_line(text: object, limit: int = 4000) -> str:
    """`text` as a single line: control characters (newlines included) become one space; cut at `limit`."""
    value = _CONTROL.sub(" ", str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def shown(value: object, limit: int = 80) -> str:
    """A value as an error message may quote it: one line, short."""
    return one_line(value, limit)


def dns_label(value: str, key: str) -> str:
    if not isinstance(value, str) or not DNS_LABEL.fullmatch(value):
        raise UsageError(f"{key}: value '{shown(value)}' is not a DNS-1123 label (1-63 lower-case letters, digits or '-', "
                         "starting and ending with a letter or digit)")
    return value


def namespace(value: str, key: str = "--namespace", allow_system: bool = False) -> str:
    """A Kubernetes namespace: a DNS-1123 label, not one the cluster's own components use unless `allow_system`."""
    dns_label(value, key)
    if value in SYSTEM_NAMESPACES and not allow_system:
        raise UsageError(f"{key}: value '{value}' is a system namespace; pick your own namespace "
                         "(or pass --allow-system-namespace / allowSystemNamespace: true)")
    return value


def bucket_name(value: str, key: str) -> str:
    """A GCS bucket name (cloud.google.com/storage/docs/buckets#naming)."""
    ok = isinstance(value, str) and bool(BUCKET.fullmatch(value)) and ".." not in value and not value.startswith("goog")
    ok = ok and "google" not in value and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value)
    ok = ok and all(1 <= len(part) <= 63 for part in value.split(".")) and (len(value) <= 63 or "." in value)
    if not ok:
        raise UsageError(f"{key}: value '{shown(value)}' is not a GCS bucket name (3-63 lower-case letters, digits, '-', '_' "
                         "or '.', starting and ending with a letter or digit)")
    return value


def object_path(value: str, key: str) -> str:
    """A GCS object prefix used as a gcsfuse `only-dir`: no commas (mount options), no '..', no control characters."""
    if not isinstance(value, str):
        raise UsageError(f"{key}: must be a text path")
    segments = value.split("/")
    bad = ("," in value or _CONTROL.search(value) or any(s in (".", "..") for s in segments)
           or len(value.encode()) > 1024 or value.startswith("/") or "//" in value or '"' in value or "\\" in value)
    if bad:
        raise UsageError(f"{key}: value '{shown(value)}' is not an object path (no commas, quotes, backslashes, '.' or '..' "
                         "segments, empty segments or control characters; at most 1024 bytes)")
    return value


def model_id(value: str, key: str = "--model") -> str:
    """A Hugging Face style id (org/name) as it may appear in labels, comments and URLs."""
    if not isinstance(value, str) or not MODEL_ID.fullmatch(value):
        raise UsageError(f"{key}: value '{shown(value)}' is not a model id (ORG/NAME of letters, digits, '.', '_' or '-')")
    return value


def finite(value: float, key: str, low: float | None = None, high: float | None = None, low_open: bool = False) -> float:
    """A finite number within [low, high] ((low, high] when `low_open`)."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{key}: value '{shown(value)}' is not a number") from None
    if not math.isfinite(number):
        raise UsageError(f"{key}: value '{shown(value)}' is not a finite number")
    if low is not None and (number < low or (low_open and number == low)):
        raise UsageError(f"{key}: value '{shown(value)}' must be {'greater than' if low_open else 'at least'} {low:g}")
    if high is not None and number > high:
        raise UsageError(f"{key}: value '{shown(value)}' must be at most {high:g}")
    return number


def regular_file(path: Path, key: str, limit: int = MAX_FILE_BYTES) -> Path:
    """`path` is a regular file (symlinks followed) of at most `limit` bytes: checked before opening, so a FIFO,
    a device such as /dev/zero or a huge file is refused instead of read."""
    try:
        info = path.stat()
    except OSError as exc:
        raise UsageError(f"{key}: cannot read '{shown(path, 200)}' ({exc.strerror})") from None
    except ValueError:  # an embedded NUL byte
        raise UsageError(f"{key}: '{shown(path, 200)}' is not a valid path") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{key}: '{shown(path, 200)}' is not a regular file")
    if info.st_size > limit:
        raise UsageError(f"{key}: '{shown(path, 200)}' is {info.st_size:,} bytes; at most {limit:,} are read")
    return path


def read_text(path: Path, key: str, limit: int = MAX_FILE_BYTES) -> str:
    """A regular file's text as UTF-8; a clear UsageError for anything else."""
    regular_file(path, key, limit)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{key}: cannot read '{shown(path, 200)}' ({exc.strerror})") from None
    if len(data) > limit:
        raise UsageError(f"{key}: '{shown(path, 200)}' is larger than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(f"{key}: '{shown(path, 200)}' is not UTF-8 text (line {line}, byte {exc.start})") from None


def load_yaml(text: str, source: str) -> Any:
    """One YAML document, safely: no aliases (so no alias bombs), no duplicate keys; UsageError otherwise."""
    import yaml

    class Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise UsageError(f"{source}:{mark.line + 1}: YAML aliases (*name) are not allowed")
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
            seen = set()
            for key_node, _ in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key in seen:
                    raise UsageError(f"{source}:{key_node.start_mark.line + 1}: duplicate key '{shown(key)}'")
                seen.add(key)
            return super().construct_mapping(node, deep)

    try:
        return yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"{source}{where}: not valid YAML ({shown(problem, 120)})") from None
    except RecursionError:
        raise UsageError(f"{source}: YAML nested too deeply") from None


def _netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host + (f":{parts.port}" if parts.port is not None else "")


def redact_url(url: str) -> str:
    """`url` without user:password (for every output that shows it)."""
    try:
        parts = urlsplit(url)
        if parts.username is None and parts.password is None:
            return url
        return parts._replace(netloc=_netloc(parts)).geturl()
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url)


def http_url(url: str, key: str) -> str:
    """An http(s) URL with a host and a valid port (credentials allowed but never shown)."""
    if not isinstance(url, str) or _CONTROL.search(url):
        raise UsageError(f"{key}: not an http(s) URL")
    safe = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{key}: value '{shown(safe, 200)}' is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{key}: value '{shown(safe, 200)}' is not an http(s) URL")
    if port == 0:
        raise UsageError(f"{key}: value '{shown(safe, 200)}' has port 0")
    return url


def cidr(value: str, key: str) -> str:
    """An IPv4/IPv6 network in CIDR notation, written canonically (10.0.0.1/8 -> 10.0.0.0/8)."""
    import ipaddress

    text = str(value).strip()
    try:
        if "/" not in text:
            raise ValueError(text)
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise UsageError(f"{key}: value '{shown(value)}' is not a CIDR range such as 10.0.0.0/8") from None


LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def label(text: str, key: str) -> tuple[str, str]:
    """KEY=VALUE as a Kubernetes label selector term."""
    name, sep, value = str(text).partition("=")
    if not sep or not LABEL_KEY.fullmatch(name) or not LABEL_VALUE.fullmatch(value):
        raise UsageError(f"{key}: value '{shown(text)}' is not a label KEY=VALUE (Kubernetes label syntax)")
    return name, value
