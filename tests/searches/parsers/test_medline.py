"""MEDLINE / .nbib parser: every fixture, field rules, broken input, streaming."""

from __future__ import annotations

import io
import re
from types import GeneratorType

import pytest

from searches.parsers import medline
from searches.parsers.base import Author, ParsedRecord, ParseError, open_text
from tests.searches.conftest import FIXTURES, manifest_counts

MEDLINE_FILES = sorted(n for n in manifest_counts() if n.startswith("medline-nbib/"))


def parse_file(name: str) -> list[ParsedRecord]:
    with (FIXTURES / name).open("rb") as binary:
        return list(medline.parse(open_text(binary)))


def parse_text(text: str) -> list[ParsedRecord]:
    return list(medline.parse(io.StringIO(text)))


def test_every_medline_fixture_is_in_the_manifest() -> None:
    on_disk = {f"medline-nbib/{p.name}" for p in (FIXTURES / "medline-nbib").iterdir()}
    assert on_disk == set(MEDLINE_FILES)


@pytest.mark.parametrize("name", MEDLINE_FILES)
def test_fixture_counts_titles_years_and_identifiers(name: str) -> None:
    records = parse_file(name)
    assert len(records) == int(manifest_counts()[name])
    assert sum(bool(r.title) for r in records) >= 0.99 * len(records)
    assert sum(r.year is not None for r in records) >= 0.99 * len(records)
    for record in records:
        assert record.raw.startswith("PMID- ")
        assert record.pmid == record.source_id
        assert record.pmid and record.raw.startswith(f"PMID- {record.pmid}")
        if re.search(r"^(?:AID|LID) - .*\[doi\]", record.raw, re.MULTILINE):
            assert record.doi.startswith("10."), record.pmid
        if re.search(r"^PMC - ", record.raw, re.MULTILINE):
            assert record.pmcid.startswith("PMC")
        assert "\r" not in record.raw


def test_older_layout_with_flattened_structured_abstract() -> None:
    record = parse_file("medline-nbib/biopython_pubmed_result2.txt")[0]
    assert record.pmid == "16403221"
    assert record.title == (
        "A high level interface to SCOP and ASTRAL implemented in python."
    )
    assert record.authors == [  # FAU, not AU 'Casbon JA'
        Author("Casbon", "James A"),
        Author("Crooks", "Gavin E"),
        Author("Saqi", "Mansoor A S"),
    ]
    assert [label for label, _ in record.abstract_sections] == [
        "BACKGROUND",
        "RESULTS",
        "CONCLUSION",
    ]
    assert record.abstract_sections[0][1].startswith("Benchmarking algorithms")
    assert "involves the construction" in record.abstract  # continuation joined
    assert record.year == 2006
    assert record.journal == "BMC bioinformatics"  # JT over TA
    assert record.volume == "7"
    assert record.pages == "10"
    assert record.doi == "10.1186/1471-2105-7-10"
    assert record.pmcid == "PMC1373603"
    assert record.issn == "1471-2105"
    assert "*Software" in record.mesh_terms
    assert record.publication_types == ["Evaluation Studies", "Journal Article"]
    assert record.language == "eng"


def test_accented_names_keywords_and_crlf() -> None:
    records = parse_file("medline-nbib/pybibx_mcda_pubmed.txt")
    assert records[0].authors == [
        Author("Mazurek", "Jiří"),
        Author("Strzałka", "Dominik"),
    ]
    assert records[0].year == 2022
    assert records[0].pages == "e0268950"
    assert records[1].keywords[:3] == [  # OT
        "decision support",
        "formulary design",
        "multiple-criteria decision analysis",
    ]


def test_group_author_keeps_its_place() -> None:
    records = parse_file("medline-nbib/reflib_blue-light.nbib")
    record = next(r for r in records if r.pmid == "18688101")
    assert record.authors == [Author("Khunger", "Niti"), Author("IADVL Task Force")]
    assert record.pages == "S28-36"
    no_authors = next(r for r in records if r.pmid == "12817196")
    assert no_authors.authors == []


def test_in_process_records_without_mesh() -> None:
    record = parse_file("medline-nbib/revtools_restoration_pubmed.nbib")[0]
    assert record.pmid == "30689646"
    assert record.mesh_terms == []
    assert record.issn == "1932-6203"
    assert record.doi


RECORD = """\
PMID- {pmid}
OWN - NLM
TI  - Title {pmid} that wraps
      onto a second line.
FAU - Doe, Jane
AU  - Doe J
AU  - Roe R
CN  - The Study Group
FAU - Smith, John A
AU  - Smith JA
DP  - 2015 Oct-Dec
PG  - 1437-44
AID - S0000-0000(15)00000-0 [pii]
AID - 10.1000/FIRST.{pmid} [doi]
AID - 10.1000/second [doi]
OT  - a keyword that is long enough to wrap
      onto the next line
OT  - second keyword
"""


def test_authors_in_order_pages_and_wrapped_values() -> None:
    [record] = parse_text(RECORD.format(pmid="111"))
    assert record.title == "Title 111 that wraps onto a second line."
    assert record.authors == [
        Author("Doe", "Jane"),
        Author("Roe", "R"),  # an AU with no FAU before it
        Author("The Study Group"),
        Author("Smith", "John A"),
    ]
    assert record.year == 2015
    assert record.pages == "1437-1444"
    assert record.doi == "10.1000/first.111"  # the first [doi] AID
    assert record.keywords == [  # Bio.Medline would make the wrapped one two
        "a keyword that is long enough to wrap onto the next line",
        "second keyword",
    ]


def test_records_without_blank_lines_or_with_doubled_ones() -> None:
    packed = RECORD.format(pmid="1") + RECORD.format(pmid="2")
    assert [r.pmid for r in parse_text(packed)] == ["1", "2"]
    doubled = "\n".join(
        line + "\n"
        for line in (
            RECORD.format(pmid="3") + "\n" + RECORD.format(pmid="4")
        ).splitlines()
    )
    records = parse_text(doubled)
    assert [r.pmid for r in records] == ["3", "4"]
    assert records[0].title == "Title 3 that wraps onto a second line."


def test_crlf_and_bom_bytes_through_open_text() -> None:
    data = b"\xef\xbb\xbf\r\n" + RECORD.format(pmid="5").replace("\n", "\r\n").encode()
    [record] = list(medline.parse(open_text(io.BytesIO(data))))
    assert record.pmid == "5"
    assert record.title == "Title 5 that wraps onto a second line."


def test_a_record_without_pmid_is_not_merged() -> None:
    text = RECORD.format(pmid="6") + "\n" + RECORD.format(pmid="7").split("\n", 1)[1]
    records = parse_text(text)
    assert [r.title for r in records] == [
        "Title 6 that wraps onto a second line.",
        "Title 7 that wraps onto a second line.",
    ]
    assert records[1].pmid == ""


def test_no_pmid_file_is_split_on_blank_lines() -> None:
    records = parse_text(
        "TI  - One\nAB  - x\n\nTI  - Two\n\n\nAU  - Doe J\nTI  - Three\n"
    )
    assert [r.title for r in records] == ["One", "Two", "Three"]


def test_missing_year_lid_doi_and_structured_sections() -> None:
    [record] = parse_text(
        "PMID- 9\nTI  - No date\nLID - 10.1000/lid [doi]\n"
        "AB  - OBJECTIVE: To test. METHODS: We tested. RESULTS: It worked.\n"
    )
    assert record.year is None
    assert record.doi == "10.1000/lid"
    assert [label for label, _ in record.abstract_sections] == [
        "OBJECTIVE",
        "METHODS",
        "RESULTS",
    ]


@pytest.mark.parametrize("text", ["", "\n\r\n  \n"])
def test_empty_file(text: str) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_text(text)


def test_ris_given_as_medline_is_named() -> None:
    with pytest.raises(ParseError) as caught:
        parse_text("TY  - JOUR\nTI  - x\nER  - \n")
    assert "does not look like a MEDLINE" in caught.value.message
    assert "RIS" in caught.value.message
    assert caught.value.line == 1


def test_non_medline_text() -> None:
    with pytest.raises(ParseError, match="no 'PMID- ' line"):
        parse_text("Some notes\nabout a search.\n")


def test_binary_data_is_refused() -> None:
    with pytest.raises(ParseError, match="binary") as caught:
        parse_text("PMID- 1\nTI  - \x00\x00\n")
    assert caught.value.line == 2


class CountingStream(io.StringIO):
    lines_read = 0

    def __next__(self) -> str:
        line = super().__next__()
        self.lines_read += 1
        return line


def test_parse_streams_record_by_record() -> None:
    text = RECORD.format(pmid="1") + "\n" + RECORD.format(pmid="2")
    stream = CountingStream(text)
    records = medline.parse(stream)
    assert isinstance(records, GeneratorType)
    assert next(records).pmid == "1"
    assert stream.lines_read < text.count("\n")
    assert [r.pmid for r in records] == ["2"]
