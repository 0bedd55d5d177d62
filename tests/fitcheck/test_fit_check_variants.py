"""Every GP sandbox variant, one at a time and the issue's pair together: the fit check either reads
the server right (with the overrides it proposes) or names the difference as a blocker. Never an
exception, never a silently empty count, never a write."""

from __future__ import annotations

import pytest

from connectors.fitcheck import run_fit_check
from sandbox.gp.variants import CHOICES, Variant
from tests.fitcheck.test_fit_check import _gp_truth, _writes

DEFAULTS = Variant().describe()
VARIANTS = [{name: value} for name, values in CHOICES.items() for value in values if value != DEFAULTS[name]]
VARIANTS.append({"stamps": "day", "skip": "ignored"})


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()))
def test_each_variant_is_read_right_or_named(wired, gp_sandbox, bill_sandbox, variant):
    gp_sandbox.set_variant(**variant)
    gp_sandbox.reset_stats()
    report = run_fit_check(wired)
    assert _writes(gp_sandbox) == [] and _writes(bill_sandbox) == []
    counts = report["gp"].get("counts")
    blockers = [p for p in report["problems"] if p["severity"] == "blocker" and p["area"] == "GP"]
    if counts is None:
        assert blockers, "no counts and no blocker naming why"
        return
    truth = _gp_truth(gp_sandbox)
    assert counts["vendors"] == truth["vendors"] > 0
    assert counts["invoices"] == truth["invoices"] and counts["gl_accounts"] == truth["gl_accounts"]
    assert bool(report["proposed_overrides"]) == bool(blockers)  # a difference found is a proposal to confirm
