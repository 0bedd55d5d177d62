"""An import's preview in words: one line per row of the file, with the file's own line number, what the
row changes field by field ("State: Suggested → Approved"), or — right there — why it cannot be imported.

import-export's own preview shows character diffs ("suggestapproved") and lists errors apart from their
rows by data-row index; a clerk fixing the file needs the line their spreadsheet shows.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

# The header is the file's first line, so data row N is line N + 1.
HEADER_LINES = 1
# Bookkeeping an import sets by itself; the clerk's change is the state, not its timestamp.
QUIET_FIELDS = {"id", "updated_at", "approved_at", "field_choices"}
KIND_WORDS = {
    "new": "New",
    "update": "Changes",
    "skip": "No change",
    "delete": "Removed",
    "error": "Not imported",
    "invalid": "Not imported",
}


def _value(instance: Model | None, field: Any) -> str:
    if instance is None:
        return ""
    if field.is_relation:
        related = getattr(instance, field.name, None)
        return str(related) if related is not None else ""
    value = getattr(instance, field.attname, None)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value or ""))
    return "" if value is None else str(value)


def field_changes(original: Model | None, instance: Model | None) -> list[dict[str, str]]:
    """Each field whose value the row changes, by its label: before and after ('' for empty)."""
    if instance is None:
        return []
    out = []
    for field in instance._meta.concrete_fields:
        if field.name in QUIET_FIELDS or field.primary_key:
            continue
        before, after = _value(original, field), _value(instance, field)
        if before != after and (original is not None or after):
            out.append(
                {
                    "field": str(field.verbose_name)[:1].upper() + str(field.verbose_name)[1:],
                    "before": before,
                    "after": after,
                }
            )
    return out


def _errors(row: Any) -> list[str]:
    said: list[str] = []
    for error in getattr(row, "errors", None) or []:
        said.append(str(getattr(error, "error", error)))
    invalid = getattr(row, "validation_error", None)
    if isinstance(invalid, ValidationError):
        if hasattr(invalid, "error_dict"):
            for name, errors in invalid.message_dict.items():
                label = "" if name == "__all__" else f"{name.replace('_', ' ')}: "
                said.extend(f"{label}{message}" for message in errors)
        else:
            said.extend(invalid.messages)
    return said


def rows_in_words(result: Any) -> list[dict[str, Any]]:
    """One entry per row of the file, in file order, numbered as the file's lines."""
    out = []
    for index, row in enumerate(getattr(result, "rows", []), start=1):
        number = getattr(row, "number", None) or index
        errors = _errors(row)
        kind = "error" if errors else (row.import_type or "")
        changes = (
            [] if errors else field_changes(getattr(row, "original", None), getattr(row, "instance", None))
        )
        if kind == "update" and not changes:
            kind = "skip"
        out.append(
            {
                "line": number + HEADER_LINES,
                "kind": kind,
                "kind_words": KIND_WORDS.get(kind, kind.title()),
                "what": getattr(row, "object_repr", "") or "",
                "changes": changes,
                "errors": errors,
            }
        )
    if any(r["errors"] for r in out):
        # Nothing is imported while a line is wrong; the good lines only wait for the others.
        for r in out:
            if not r["errors"]:
                r.update(kind="ok", kind_words="Fine: imported once the marked lines are fixed", changes=[])
    return out


def counts(rows: list[dict[str, Any]]) -> str:
    """ "3 new, 2 with changes, 1 unchanged, 1 not imported (fix its line and upload again)"."""
    tally = {
        kind: sum(1 for r in rows if r["kind"] == kind) for kind in ("new", "update", "skip", "error", "ok")
    }
    if tally["error"]:
        parts = [f"{tally['ok']} line{'s' if tally['ok'] != 1 else ''} fine"]
    else:
        parts = [f"{tally['new']} new", f"{tally['update']} with changes", f"{tally['skip']} unchanged"]
    if tally["error"]:
        parts.append(
            f"{tally['error']} not imported (fix {'its line' if tally['error'] == 1 else 'those lines'} "
            "in the file and upload it again)"
        )
    return ", ".join(parts)
