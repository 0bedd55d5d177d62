"""Limits on a mapping import, so one upload cannot hold a web worker for minutes or gigabytes.

- Files larger than `IMPORT_MAX_BYTES` are refused before they are read.
- At most `IMPORT_MAX_ROWS` rows: CSV rows are counted as they are parsed, XLSX is read in
  openpyxl's streaming (read-only) mode row by row and reading stops at the first row too many.
- An XLSX is a zip of XML: one whose parts unpack to more than `IMPORT_MAX_UNZIPPED_BYTES` is
  refused unopened (a "zip bomb"), and its XML is parsed with defusedxml (openpyxl uses it when it is
  installed), so entity tricks ("billion laughs") are refused, not expanded.
- The preview shows the first `IMPORT_PREVIEW_ROWS` rows (the import itself covers every row).
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import tablib
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from import_export.formats import base_formats
from import_export.forms import ImportForm, SelectableFieldsExportForm


class ImportRefused(ValueError):
    """The file is refused as a whole; the message says why in plain words."""


def _too_many_rows() -> ImportRefused:
    return ImportRefused(
        f"The file has more than {settings.IMPORT_MAX_ROWS:,} rows, the most one import takes. "
        "Split it into smaller files."
    )


def _too_large() -> ImportRefused:
    return ImportRefused(
        f"The file is larger than {settings.IMPORT_MAX_BYTES // 1000:,} kB, the most one import "
        "takes. Split it into smaller files."
    )


def _check_size(data: bytes | str) -> None:
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise _too_large()


class LimitedCSV(base_formats.CSV):
    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        _check_size(in_stream)
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        for count, _row in enumerate(csv.reader(io.StringIO(in_stream)), start=0):
            if count > settings.IMPORT_MAX_ROWS:  # the header is row 0
                raise _too_many_rows()
        return super().create_dataset(in_stream, **kwargs)


class LimitedXLSX(base_formats.XLSX):
    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        import openpyxl
        from defusedxml import DefusedXmlException

        _check_size(in_stream)
        try:
            with zipfile.ZipFile(io.BytesIO(in_stream)) as archive:
                if sum(i.file_size for i in archive.infolist()) > settings.IMPORT_MAX_UNZIPPED_BYTES:
                    raise ImportRefused(
                        "The spreadsheet unpacks to far more data than its size suggests; it was "
                        "not opened. Save it again from your spreadsheet program, or use CSV."
                    )
            book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
            try:
                dataset = tablib.Dataset()
                rows = book.active.iter_rows(values_only=True)
                dataset.headers = list(next(rows, ()))
                for count, row in enumerate(rows, start=1):
                    if count > settings.IMPORT_MAX_ROWS:
                        raise _too_many_rows()
                    if any(value is not None for value in row):
                        dataset.append(list(row))
            finally:
                book.close()
        except (DefusedXmlException, ValueError) as exc:
            if isinstance(exc, ImportRefused):
                raise
            if not _caused_by(exc, DefusedXmlException):
                raise  # import-export names the error and asks for the right format
            raise ImportRefused(
                "The spreadsheet contains XML declarations that are not allowed (entities or a "
                "DOCTYPE). Save it again from your spreadsheet program, or use CSV."
            ) from None
        except zipfile.BadZipFile:
            raise ImportRefused(
                "This is not an XLSX file. Choose the format that matches the file."
            ) from None
        return dataset


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """openpyxl wraps what the XML parser raised in a ValueError; look down the chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


LIMITED_FORMATS = [LimitedCSV, LimitedXLSX]


class LimitedImportForm(ImportForm):
    """Refuses an upload over the size limit before anything reads it."""

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        if upload is not None and upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(str(_too_large()))
        return upload


class LimitedImportMixin:
    """For an ImportExportMixin admin: the limited formats and form, plain reasons, a capped preview."""

    formats = LIMITED_FORMATS
    import_form_class = LimitedImportForm

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        if isinstance(e, ImportRefused):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)  # type: ignore[misc]

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = super().import_action(request, **kwargs)  # type: ignore[misc]
        result = (getattr(response, "context_data", None) or {}).get("result")
        cap = settings.IMPORT_PREVIEW_ROWS
        if result is not None:
            total_rows, total_invalid = len(result.rows), len(result.invalid_rows)
            if total_rows > cap or total_invalid > cap:
                # Only what is shown is cut: confirming reads the whole file again.
                result.rows, result.invalid_rows = result.rows[:cap], result.invalid_rows[:cap]
                messages.info(
                    request,
                    f"The preview shows the first {cap:,} rows of {max(total_rows, total_invalid):,}.",
                )
        return response


class ScopedExportForm(SelectableFieldsExportForm):
    """The export page asks what to export: the list as filtered, or everything of the user's tenants."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"] = forms.ChoiceField(
            label="Export",
            widget=forms.RadioSelect,
            initial="filtered",
            required=False,
            choices=[
                ("filtered", "Only the list as filtered (what the list showed)"),
                ("all", "Everything (every mapping of your tenants)"),
            ],
        )
