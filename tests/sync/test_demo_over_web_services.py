"""`manage.py demo --once --gp-interface soap`: the whole job with GP reached over GP Web Services, judged
from both APIs: no duplicates, and every BILL payment of a GP bill accounted for the manual way."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.slow
def test_the_demo_agrees_over_gp_web_services(transactional_db):
    out = io.StringIO()
    call_command("demo", "--once", "--gp-interface", "soap", "--seed", "small", stdout=out)
    text = out.getvalue()
    result = json.loads(text.strip().splitlines()[-1])
    assert result["agree"] is True and result["duplicates"] == 0
    assert result["bill_payments_paid"] > 0
    assert (
        result["gp_payments_recorded_by_hand"]
        == result["gp_payments_applied"]
        == result["bill_payments_paid"]
    )
    assert "imported the manual-payments file" in text
