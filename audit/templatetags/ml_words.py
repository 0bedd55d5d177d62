"""Template filters that put codes and stored values into words (see `audit.words`)."""

from __future__ import annotations

from typing import Any

from django import template

from audit import words

register = template.Library()
register.filter("state_words", words.state_words)
register.filter("outcome_words", words.outcome_words)
register.filter("flow_words", words.flow_words)
register.filter("trigger_words", words.trigger_words)
register.filter("tally_sentence", words.tally_sentence)
register.filter("states_sentence", words.states_sentence)


@register.filter
def readable(value: Any) -> str:
    return words.readable(value)


@register.filter
def kind_noun(kind: str) -> str:
    """`{{ record.kind|kind_noun }}` → "invoice", "payment" (what a clerk calls the document)."""
    return words.KIND_NOUNS.get(kind, ("record", "records"))[0]


@register.filter
def money(value: Any, currency: str = "USD") -> str:
    """`{{ record.amount|money:record.currency }}` → "$999.99"."""
    return words.money_text(value, currency or "USD")


@register.filter
def count(value: Any) -> str:
    """`{{ 20000|count }}` → "20,000": counts read at a glance, as finance people write them."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
