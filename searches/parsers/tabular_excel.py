"""Excel workbooks (.xlsx): the first sheet read like a CSV file, with the same
layout detection and column mapping as `tabular`.

openpyxl's read-only mode streams the sheet, so memory stays flat. Cells become
strings: numbers without a spurious '.0', dates as ISO dates. The legacy binary
.xls format is not read: save it as .xlsx or CSV.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

from openpyxl import load_workbook  # type: ignore[import-untyped]

from searches.parsers.base import ParsedRecord, ParseError
from searches.parsers.tabular import ColumnMapping, detect_mapping, parse_rows

__all__ = ["ColumnMapping", "detect_mapping", "parse", "read_header"]


def cell_text(value: object) -> str:
    """A cell value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


@contextmanager
def _seekable(stream: BinaryIO) -> Iterator[IO[bytes]]:
    """The stream itself when it can seek (a zip file needs to), else a copy."""
    if stream.seekable():
        yield stream
        return
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as copy:
        shutil.copyfileobj(stream, copy)
        copy.seek(0)
        yield copy


# An .xlsx is a zip: a small upload can expand to gigabytes (a "zip bomb").
MAX_UNPACKED_BYTES = 2 * 1024**3


def _refuse_zip_bomb(seekable: IO[bytes]) -> None:
    try:
        with zipfile.ZipFile(seekable) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as error:
        raise ParseError(
            "This is not an Excel .xlsx workbook (it is not a valid zip archive)."
        ) from error
    finally:
        seekable.seek(0)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ParseError(
            f"The workbook unpacks to {unpacked / 1e9:.1f} GB, more than we read. "
            "Save it as CSV and upload that."
        )


@contextmanager
def _opened(
    stream: BinaryIO,
) -> Iterator[tuple[str, list[str], Iterator[tuple[int | None, list[str]]]]]:
    """(sheet title, header, the data rows with their sheet row numbers) of the
    first sheet; the workbook stays open inside the `with` block."""
    with _seekable(stream) as seekable:
        _refuse_zip_bomb(seekable)
        try:
            workbook: Any = load_workbook(seekable, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises zip, XML and value errors alike
            raise ParseError(
                "This is not an Excel .xlsx workbook, or it is damaged "
                f"({type(error).__name__}). Save it as .xlsx or CSV and upload again."
            ) from error
        try:
            if not workbook.worksheets:
                raise ParseError("The workbook has no sheets.")
            sheet = workbook.worksheets[0]
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            header: list[str] = []
            for _, values in rows:
                header = [cell_text(value).strip() for value in values]
                if any(header):
                    break
            if not any(header):
                raise ParseError(
                    f"The first sheet ('{sheet.title}') is empty: there is no header "
                    "row."
                )
            while not header[-1]:
                header.pop()
            data = (
                (number, [cell_text(value) for value in values])
                for number, values in rows
            )
            yield str(sheet.title), header, data
        finally:
            workbook.close()


def read_header(stream: BinaryIO) -> tuple[list[str], str]:
    """The column names in the first non-empty row of the first sheet, and the
    sheet's name."""
    with _opened(stream) as (title, header, _):
        return header, title


def parse(
    stream: BinaryIO, mapping: ColumnMapping | None = None
) -> Iterator[ParsedRecord]:
    """Records from the first sheet of an .xlsx workbook, one per data row; the
    line in a ParseError is the sheet's row number."""
    with _opened(stream) as (_, header, rows):
        # Cells beyond the named columns (notes in a spare column) are ignored.
        yield from parse_rows(header, rows, mapping, strict=False)
