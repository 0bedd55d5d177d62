"""Suggestions rank BILL candidates and say why, so a clerk can approve with confidence."""

from __future__ import annotations

from mappings.matching import Account, Party, main_segment, normalise_name, rank_accounts, rank_vendors

BILL_VENDORS = [
    Party(
        "009A", "Advanced Office Systems, Inc.", "ap@advoffice.example", "12-3456789", "1 Main St", "60601"
    ),
    Party("009B", "Contoso Ltd.", "billing@contoso.example", "98-7654321"),
    Party("009C", "Adventure Works", "aw@example.com"),
]


def test_it_puts_the_same_tax_id_first_and_says_so():
    gp = Party("ADVANCED0001", "ADVANCED OFFICE SYS", "", "123456789")
    ranked = rank_vendors(gp, BILL_VENDORS)
    assert ranked[0].bill_id == "009A"
    assert "same tax ID" in ranked[0].reasons


def test_it_matches_names_that_differ_only_by_suffix_and_punctuation():
    ranked = rank_vendors(Party("CONTOSO", "CONTOSO LIMITED"), BILL_VENDORS)
    assert ranked[0].bill_id == "009B" and "same name" in ranked[0].reasons


def test_it_suggests_nothing_for_a_vendor_that_looks_like_no_one():
    assert rank_vendors(Party("ZEPHYR", "Zephyr Plumbing"), BILL_VENDORS) == []


def test_it_explains_a_similar_name_with_its_percentage():
    ranked = rank_vendors(Party("ADVWORKS", "Adventure Work"), BILL_VENDORS)
    assert ranked[0].bill_id == "009C"
    assert any(r.startswith("similar name (") for r in ranked[0].reasons)


def test_it_folds_accents_and_ampersands_when_normalising():
    assert normalise_name("Compañía & Hijos, S.A.") == normalise_name("Compania and Hijos S A")


def test_it_matches_gp_accounts_on_their_natural_segment():
    assert main_segment("000-6100-00") == "6100"
    ranked = rank_accounts(
        Account("000-6100-00", "Office Supplies"),
        [Account("0caX", "Rent", "6200"), Account("0caY", "Office supplies", "6100")],
    )
    assert ranked[0].bill_id == "0caY"
    assert ranked[0].reasons[0] == "same account number"


def test_the_same_number_with_a_different_name_is_not_a_match():
    bill = [Account("0caP", "Professional Fees", "6500"), Account("0caF", "Freight", "6510")]
    ranked = rank_accounts(Account("000-6500-00", "Freight In"), bill)
    assert [c.bill_id for c in ranked if c.bill_name == "Professional Fees"] == []
    telephone = rank_accounts(
        Account("000-6300-00", "Telephone"), [Account("0caT", "Telephone and Internet", "6300")]
    )
    assert telephone[0].reasons[0] == "same account number"
