"""Resource options for a component's children.

`depends_on` given to a ComponentResource does not reach the resources it creates (pulumi/pulumi#8721), so every
component passes its own `depends_on` (plus anything it adds) to each child explicitly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi


def inherited(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """The component's own depends_on, as a list."""
    deps = opts.depends_on if opts is not None else None
    if deps is None:
        return []
    return list(deps) if isinstance(deps, Sequence) else [deps]


def child(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None, *more: Any, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a child: parented, and depending on what the component depends on plus `more`."""
    deps = inherited(opts) + [d for d in more if d is not None]
    return pulumi.ResourceOptions(parent=parent, depends_on=deps or None, **kwargs)
