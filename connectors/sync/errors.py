"""One sentence a finance user can act on, for any error a flow meets."""

from __future__ import annotations


def explain(exc: BaseException) -> str:
    """Plain words for an exception: the seams' own messages, else its type and text (no secrets)."""
    message = getattr(exc, "message", None)
    if message:
        return str(message)[:1000]
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:1000] if text else type(exc).__name__


def may_have_written(exc: BaseException) -> bool:
    """Whether the failed call may still have been carried out by GP or BILL (the answer was lost:
    timeout, reset, 5xx), as opposed to a clear refusal or an error before anything was sent."""
    return bool(getattr(exc, "in_doubt", False)) or getattr(exc, "code", None) in ("timeout", "reset", "server")
