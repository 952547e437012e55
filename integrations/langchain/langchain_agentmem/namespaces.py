"""Which namespace a run's memories live in, taken from the run (e.g. its `user_id`).

The middleware and the tools share this, so what the middleware remembers for a user is what the
tools recall, update and forget for that user. A namespace is given either as a template, a tuple
whose labels may name fields of the run (`("memories", "{user_id}")`), or as a function of the run's
LangGraph `Runtime` (it carries `.context`). A template's field is read from the run's context
(`agent.invoke(..., context={"user_id": ...})`), else from its config's `configurable`
(`config={"configurable": {"langgraph_user_id": ...}}`, as LangMem's tools name it).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.config import get_config

Namespace = tuple[str, ...]
NamespaceSpec = Namespace | Callable[[Any], Namespace]

DEFAULT_NAMESPACE: Namespace = ("memories", "{user_id}")


def resolve_namespace(spec: NamespaceSpec, runtime: Any) -> Namespace:
    """The namespace for this run: call `spec`, or fill its `{field}` labels from the run."""
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
            value = _configurable().get(name)
        if value is None:
            raise ValueError(
                f"memory namespace {spec} needs {name!r} in the run's context, e.g. "
                f"agent.invoke(..., context={{{name!r}: ...}}), or in its config, e.g. "
                f"config={{'configurable': {{{name!r}: ...}}}}; or pass a fixed namespace"
            )
        values[name] = str(value)
    return label.format_map(values)


def _configurable() -> Mapping[str, Any]:
    try:
        return get_config().get("configurable") or {}
    except RuntimeError:  # called outside a run (or, before Python 3.11, from an async task)
        return {}
