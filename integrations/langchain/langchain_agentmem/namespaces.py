"""Which namespace a run's memories live in, taken from the run's context (e.g. its `user_id`).

The middleware and the tools share this, so what the middleware remembers for a user is what the
tools recall and forget for that user. A namespace is given either as a template, a tuple whose
labels may name context fields (`("memories", "{user_id}")`), or as a function of the runtime
(LangGraph's `Runtime` in middleware, `ToolRuntime` in tools; both carry `.context`).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

Namespace = tuple[str, ...]
NamespaceSpec = Namespace | Callable[[Any], Namespace]

DEFAULT_NAMESPACE: Namespace = ("memories", "{user_id}")


def resolve_namespace(spec: NamespaceSpec, runtime: Any) -> Namespace:
    """The namespace for this run: call `spec`, or fill its `{field}` labels from the context."""
    if callable(spec):
        return tuple(spec(runtime))
    context = getattr(runtime, "context", None)
    return tuple(_fill(label, context, spec) for label in spec)


def _fill(label: str, context: Any, spec: Namespace) -> str:
    fields = [name for _, name, _, _ in string.Formatter().parse(label) if name]
    values = {}
    for name in fields:
        value = context.get(name) if isinstance(context, Mapping) else getattr(context, name, None)
        if value is None:
            raise ValueError(
                f"memory namespace {spec} needs {name!r} in the run's context, e.g. "
                f"agent.invoke(..., context={{{name!r}: ...}}); or pass a fixed namespace"
            )
        values[name] = str(value)
    return label.format_map(values)
