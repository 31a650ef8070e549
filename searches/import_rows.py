"""Parsed records as database rows, and parsing in a child process.

An import does two kinds of work: parsing (pure Python, holding the GIL) and
storing (the database). In one process the two take turns, even in two threads.
For a large file the parser runs in a child process instead (`python -m
searches.import_rows`): it reads the stored file, turns records into Record and
RecordSource rows (JSON already encoded), and sends them back a batch at a time,
pickled through its stdout; the parent only inserts them. Parsing the next batch
then overlaps storing the last on the second core.

Pure: no Django here, so the child starts in a fraction of a second, and the
rows it builds are the ones the in-process path builds.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from searches.formats import UnsupportedFile
from searches.parsers import FORMATS, ParsedRecord, ParseError
from searches.parsers.base import open_text

RECORD_COLUMNS = (
    "review_id", "search_id", "created_at", "updated_at", "title", "abstract",
    "abstract_sections", "authors", "year", "journal", "volume", "issue", "pages",
    "doi", "pmid", "pmcid", "issn", "keywords", "mesh_terms", "publication_types",
    "language", "url",
)  # fmt: skip
# The leading columns every row of one import shares (the "head" of a row).
RECORD_HEAD = RECORD_COLUMNS[:4]
# Record's JSONFields (tests check this against the model).
RECORD_JSON_COLUMNS = frozenset(
    {"abstract_sections", "authors", "keywords", "mesh_terms", "publication_types"}
)
SOURCE_COLUMNS = ("record_id", "search_id", "position", "source_id", "raw")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def clean(value: str, limit: int | None = None) -> str:
    # PostgreSQL refuses NUL characters in text; CharFields have lengths.
    if not value:
        return ""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value[:limit] if limit else value


def record_values(parsed: ParsedRecord) -> dict[str, Any]:
    """A parsed entry's fields, fitted to the Record columns."""
    return {
        "title": clean(parsed.title),
        "abstract": clean(parsed.abstract),
        "abstract_sections": [
            [clean(label), clean(text)] for label, text in parsed.abstract_sections
        ],
        "authors": [[clean(a.family), clean(a.given)] for a in parsed.authors],
        "year": parsed.year if parsed.year and 0 < parsed.year < 10000 else None,
        "journal": clean(parsed.journal),
        "volume": clean(parsed.volume, 64),
        "issue": clean(parsed.issue, 64),
        "pages": clean(parsed.pages, 64),
        "doi": clean(parsed.doi, 255),
        "pmid": clean(parsed.pmid, 16),
        "pmcid": clean(parsed.pmcid, 16),
        "issn": clean(parsed.issn, 64),
        "keywords": [clean(k) for k in parsed.keywords],
        "mesh_terms": [clean(k) for k in parsed.mesh_terms],
        "publication_types": [clean(k) for k in parsed.publication_types],
        "language": clean(parsed.language, 64),
        "url": clean(parsed.url),
    }


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of parsed records as rows ready to insert: Record rows in
    RECORD_COLUMNS order (JSON encoded), the RecordSource rows' values after
    record_id and search_id, and how far into the file parsing got (bytes)."""

    records: list[list[Any]]
    sources: list[tuple[int, str, str]]
    bytes_read: int = 0


def prepared_batches(
    records: Iterator[ParsedRecord],
    head: Sequence[Any],
    *,
    start: int,
    size: int,
    tell: Any = None,
) -> Iterator[PreparedBatch]:
    """`records` as PreparedBatches of `size`, positions counted from `start`;
    `tell()` (optional) gives the bytes read so far."""
    fields = RECORD_COLUMNS[len(RECORD_HEAD) :]
    encoded = [field in RECORD_JSON_COLUMNS for field in fields]
    head = list(head)
    rows: list[list[Any]] = []
    sources: list[tuple[int, str, str]] = []
    for position, parsed in enumerate(records, start=start):
        values = record_values(parsed)
        rows.append(
            head
            + [
                json.dumps(values[field]) if is_json else values[field]
                for field, is_json in zip(fields, encoded, strict=True)
            ]
        )
        sources.append((position, clean(parsed.source_id, 255), clean(parsed.raw)))
        if len(rows) == size:
            yield PreparedBatch(rows, sources, tell() if tell else 0)
            rows, sources = [], []
    if rows:
        yield PreparedBatch(rows, sources, tell() if tell else 0)


def parse_stream(
    format_key: str, binary: BinaryIO, mapping: dict[str, Any] | None = None
) -> Iterator[ParsedRecord]:
    """The records of a file in `format_key` (a FORMATS key); `mapping` is a
    CSV/Excel column mapping as stored on the Search."""
    file_format = FORMATS[format_key]
    module = importlib.import_module(f"searches.parsers.{file_format.module}")
    stream: Any = binary if file_format.binary else open_text(binary)
    if file_format.key in ("csv", "excel") and mapping:
        return module.parse(  # type: ignore[no-any-return]
            stream, mapping=module.ColumnMapping.from_dict(mapping)
        )
    return module.parse(stream)  # type: ignore[no-any-return]


# --- The child process -----------------------------------------------------------


@dataclass(frozen=True)
class ParseJob:
    """What the child parses: a stored file by path, and how to shape its rows."""

    path: str
    format_key: str
    mapping: dict[str, Any] | None
    head: tuple[Any, ...]
    start: int
    batch_size: int


class ParserCrashed(Exception):
    """The parser process failed in a way that is not about the file."""


def batches_in_child(job: ParseJob) -> Iterator[PreparedBatch]:
    """The PreparedBatches of `job`, parsed in a child process while the caller
    stores the last one. File errors (ParseError, UnsupportedFile, a
    ValueError for bad text) are raised here as the parser raised them;
    closing the generator early stops the child."""
    # The child's stderr goes to a file, not a pipe: a pipe nobody reads
    # while waiting on stdout would block a chatty child for ever.
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", "searches.import_rows"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            cwd=PROJECT_ROOT,  # where `searches` is importable from
        )
        stdin, stdout = child.stdin, child.stdout
        assert stdin is not None and stdout is not None  # noqa: S101 (PIPE given)

        def crashed() -> ParserCrashed:
            child.wait()
            errors.seek(0)
            said = errors.read().decode(errors="replace")[-2000:]
            return ParserCrashed(
                f"the parser process stopped (exit {child.returncode}): {said}"
            )

        try:
            try:
                pickle.dump(job, stdin)
                stdin.close()
            except BrokenPipeError:  # it died on start-up
                raise crashed() from None
            while True:
                try:
                    kind, payload = pickle.load(stdout)  # noqa: S301 (our own child)
                except (EOFError, pickle.UnpicklingError):
                    raise crashed() from None
                if kind == "batch":
                    yield payload
                elif kind == "done":
                    return
                else:
                    raise _error_from(kind, payload)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            stdout.close()
            if not stdin.closed:
                stdin.close()


def _error_from(kind: str, payload: Any) -> Exception:
    if kind == "parse_error":
        message, record, line = payload
        return ParseError(message, record=record, line=line)
    if kind == "unsupported":
        return UnsupportedFile(payload)
    if kind == "invalid":
        return ValueError(payload)
    return ParserCrashed(payload)


def _child_main(job_in: IO[bytes], out: IO[bytes]) -> None:
    job: ParseJob = pickle.load(job_in)  # noqa: S301 (sent by our parent)

    def send(kind: str, payload: Any = None) -> None:
        # Pickled whole before writing: a failure cannot leave half a message.
        out.write(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))
        out.flush()  # the parent can store this batch while the next is parsed

    try:
        with open(job.path, "rb", buffering=0) as raw:
            size = os.fstat(raw.fileno()).st_size

            def tell() -> int:
                # A text parser's wrapper closes the file when the parser ends.
                return size if raw.closed else raw.tell()

            binary = io.BufferedReader(raw, buffer_size=1 << 16)
            records = parse_stream(job.format_key, binary, job.mapping)
            for batch in prepared_batches(
                records, job.head, start=job.start, size=job.batch_size, tell=tell
            ):
                send("batch", batch)
    except ParseError as error:
        send("parse_error", (error.message, error.record, error.line))
    except UnsupportedFile as error:
        send("unsupported", str(error))
    except (UnicodeError, ValueError) as error:
        send("invalid", str(error))
    except Exception as error:  # reported to the parent, which fails the import
        send("crash", f"{type(error).__name__}: {error}")
    else:
        send("done")
    out.flush()


if __name__ == "__main__":
    # Through the package, so that what is pickled names searches.import_rows
    # (this file runs as __main__).
    from searches import import_rows

    import_rows._child_main(sys.stdin.buffer, sys.stdout.buffer)
