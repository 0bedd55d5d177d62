"""One sentence a finance user can act on, for any error a flow meets."""

from __future__ import annotations


def explain(exc: BaseException) -> str:
    """Plain words for an exception: the seams' own messages, else its type and text (no secrets)."""
    message = getattr(exc, "message", None)
    if message:
        return str(message)[:1000]
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__
