"""A mapping import cannot hold a web worker: size and row limits, streaming XLSX, defused XML, and
a preview of the first rows only (mappings/import_limits.py)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mappings.models import MappingState, Suggestion, VendorMapping

IMPORT = "/admin/mappings/vendormapping/import/"
HEADER = "tenant,gp_vendor_id,gp_name,action,bill_vendor_id,bill_name,state,note\n"


@pytest.fixture
def as_frank(client, frank):
    client.force_login(frank)
    return client


@pytest.fixture
def limits(settings):
    settings.IMPORT_MAX_BYTES = 20_000
    settings.IMPORT_MAX_ROWS = 50
    settings.IMPORT_PREVIEW_ROWS = 5
    return settings


@pytest.fixture
def vendors(tenant):
    """Forty GP vendors the connector has met, each with a BILL vendor suggested."""
    for n in range(40):
        VendorMapping.objects.create(tenant=tenant, gp_vendor_id=f"V{n:04d}", gp_name=f"Vendor {n}")
        Suggestion.objects.create(
            tenant=tenant,
            kind="vendor",
            gp_key=f"V{n:04d}",
            bill_id=f"00902V{n:014d}",
            bill_name=f"Vendor {n}",
            score="0.9",
            reasons="same tax ID",
        )


def upload(client, data: bytes, name: str, fmt: str):
    return client.post(
        IMPORT, {"import_file": SimpleUploadedFile(name, data), "format": fmt, "resource": "0"}
    )


def xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(n: int) -> list[object]:
    return ["northwind", f"V{n:04d}", "", "link", f"00902V{n:014d}", "", "approved", ""]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(as_frank, limits, vendors):
    page = upload(as_frank, (HEADER + "x" * 30_000).encode(), "big.csv", "0").content.decode()
    assert "The file is larger than 20 kB, the most one import takes. Split it into smaller files." in page


def test_a_csv_with_too_many_rows_is_refused(as_frank, limits, vendors):
    rows = "".join(",".join(str(c) for c in _row(n % 40)) + "\n" for n in range(51))
    page = upload(as_frank, (HEADER + rows).encode(), "many.csv", "0").content.decode()
    assert "The file has more than 50 rows, the most one import takes." in page
    assert not VendorMapping.objects.filter(state=MappingState.APPROVED).exists()


def test_an_xlsx_with_too_many_rows_is_refused(as_frank, limits, vendors):
    data = xlsx([HEADER.strip().split(","), *[_row(n % 40) for n in range(51)]])
    page = upload(as_frank, data, "many.xlsx", "1").content.decode()
    assert "The file has more than 50 rows, the most one import takes." in page


def test_the_xlsx_is_read_row_by_row_in_streaming_mode(as_frank, limits, vendors, monkeypatch):
    """openpyxl's read-only mode (the streaming reader); the whole-sheet reader would hold every cell."""
    seen = []
    real = openpyxl.load_workbook

    def spy(*args, **kwargs):
        seen.append(kwargs.get("read_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    data = xlsx([HEADER.strip().split(","), _row(1), _row(2)])
    page = upload(as_frank, data, "two.xlsx", "1").content.decode()
    assert seen == [True]
    assert "V0001" in page and "V0002" in page


def test_an_xlsx_with_xml_entities_is_refused_not_expanded(as_frank, limits, vendors):
    plain = xlsx([["tenant", "gp_vendor_id"], ["northwind", "V0001"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                body = (
                    b'<!DOCTYPE worksheet [<!ENTITY a "V0001V0001V0001">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' + body
                )
            target.writestr(item, body)
    page = upload(as_frank, out.getvalue(), "bomb.xlsx", "1").content.decode()
    assert "The spreadsheet contains XML declarations that are not allowed" in page


def test_an_xlsx_that_unpacks_to_far_more_than_its_size_is_not_opened(as_frank, limits, vendors):
    limits.IMPORT_MAX_UNZIPPED_BYTES = 1_000_000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b" " * 5_000_000)
    page = upload(as_frank, out.getvalue(), "zipbomb.xlsx", "1").content.decode()
    assert "unpacks to far more data than its size suggests" in page


def test_the_preview_shows_the_first_rows_and_the_import_takes_them_all(as_frank, limits, vendors):
    rows = "".join(",".join(str(c) for c in _row(n)) + "\n" for n in range(40))
    response = upload(as_frank, (HEADER + rows).encode(), "forty.csv", "0")
    page = response.content.decode()
    assert "The preview shows the first 5 rows of 40." in page
    assert "V0004" in page and "V0030" not in page
    name = page.split('name="import_file_name" value="')[1].split('"')[0]
    original = page.split('name="original_file_name" value="')[1].split('"')[0]
    as_frank.post(
        "/admin/mappings/vendormapping/process_import/",
        {"import_file_name": name, "original_file_name": original, "format": "0", "resource": "0"},
    )
    assert VendorMapping.objects.filter(state=MappingState.APPROVED).count() == 40
