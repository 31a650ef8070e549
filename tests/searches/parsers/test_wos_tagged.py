"""Web of Science plain-text parser: every fixture, field rules, broken input."""

from __future__ import annotations

import io
import re
from types import GeneratorType

import pytest

from searches.parsers import wos_tagged
from searches.parsers.base import Author, ParsedRecord, ParseError, open_text
from tests.searches.conftest import FIXTURES, manifest_counts

WOS_FILES = sorted(n for n in manifest_counts() if n.startswith("wos-tagged/"))


def parse_file(name: str) -> list[ParsedRecord]:
    with (FIXTURES / name).open("rb") as binary:
        return list(wos_tagged.parse(open_text(binary)))


def parse_text(text: str) -> list[ParsedRecord]:
    return list(wos_tagged.parse(io.StringIO(text)))


def test_every_wos_fixture_is_in_the_manifest() -> None:
    on_disk = {f"wos-tagged/{p.name}" for p in (FIXTURES / "wos-tagged").iterdir()}
    assert on_disk == set(WOS_FILES)


@pytest.mark.parametrize("name", WOS_FILES)
def test_fixture_counts_titles_years_and_identifiers(name: str) -> None:
    records = parse_file(name)
    assert len(records) == int(manifest_counts()[name])
    assert sum(bool(r.title) for r in records) >= 0.99 * len(records)
    assert sum(r.year is not None for r in records) >= 0.99 * len(records)
    for record in records:
        assert record.raw.startswith("PT ")
        assert record.source_id.startswith("WOS:")
        assert record.authors
        if re.search(r"^DI 10\.", record.raw, re.MULTILINE):
            assert record.doi.startswith("10.")
        if re.search(r"^PM \d", record.raw, re.MULTILINE):
            assert record.pmid.isdigit()


def test_full_names_wrapped_title_and_keywords() -> None:
    record = parse_file("wos-tagged/tethne_wos.txt")[0]
    assert record.title == (
        "Marine ecosystem health status assessment through integrative biomarker "
        'indices: a comparative study after the Prestige oil spill "Mussel Watch"'
    )
    assert record.authors[:2] == [  # AF, not AU 'Marigomez, I'
        Author("Marigomez", "Ionan"),
        Author("Garmendia", "Larraitz"),
    ]
    assert record.authors[-1] == Author("Cajaraville", "Miren P.")
    assert record.keywords[:5] == [
        "Ecosystem health assessment",
        "Mussels",
        "Prestige oil spill",
        "Integrative indices",  # DE wraps after 'Integrative'
        "Biomarkers",
    ]
    assert record.source_id == "WOS:000316281300006"
    assert record.doi == "10.1007/s10646-013-1042-4"
    assert record.pages == "486-505"
    assert record.issn == "0963-9292"
    assert record.journal == "ECOTOXICOLOGY"
    assert record.year == 2013
    assert record.publication_types == ["Article"]
    assert record.language == "English"


def test_keyword_plus_wrapping_inside_a_keyword_and_pubmed_id() -> None:
    record = parse_file("wos-tagged/revtools_restoration_WoS.ciw")[0]
    assert "TROPHIC STATE INDEX" in record.keywords  # 'TROPHIC' / '   STATE INDEX'
    assert record.pmid == "30529964"
    assert record.issn == "0048-9697"  # SN over EI
    assert record.volume == "656"


def test_year_from_early_access_when_py_is_missing() -> None:
    records = parse_file("wos-tagged/revtools_restoration_WoS.ciw")
    record = next(r for r in records if r.source_id == "WOS:000454999700001")
    assert "\nPY " not in record.raw
    assert record.year == 2019  # EY


def test_structured_abstract_sections() -> None:
    records = parse_file("wos-tagged/revtools_restoration_WoS.ciw")
    record = next(r for r in records if r.source_id == "WOS:000455890400006")
    assert [label for label, _ in record.abstract_sections] == [
        "Objective",
        "Materials and methods",
        "Results",
        "Conclusions",
    ]


def test_empty_fields_and_no_abstract() -> None:
    record = parse_file("wos-tagged/refsplitr_example_data.txt")[0]
    assert record.doi == ""  # 'DI ' with no value
    assert record.abstract == ""
    assert record.authors[3] == Author("Fairbank'S", "Sierra")
    assert record.pages == "586-597"


def test_asreview_web_of_science_txt_is_ris_not_plain_text() -> None:
    with pytest.raises(ParseError) as caught:
        parse_file("ris/asreview_web_of_science.txt")
    assert "It looks like a RIS file" in caught.value.message


HEADER = "\ufeffFN Clarivate Analytics Web of Science\nVR 1.0\n"
RECORD = (
    "PT J\nAU Doe, J\n   Roe, R\nAF Doe, Jane\n   Roe, Richard\nCA Study Group\n"
    "TI {title}\nSO JOURNAL\nPY 2020\nBP 1\nEP 9\nDI 10.1000/X\nUT WOS:{n}\n"
)


def test_broken_structure_is_kept_record_by_record() -> None:
    text = (
        HEADER
        + RECORD.format(title="One", n=1)
        + "ER\n\n"
        + RECORD.format(title="Two, no ER", n=2)
        + RECORD.format(title="Three", n=3)
        + "ER\nZ9 5\n\n"  # a stray tag line after ER
        + RECORD.format(title="Four", n=4)
        + "ER\n\n"
        + RECORD.format(title="Five, no PT", n=5).replace("PT J\n", "")
        + "ER\nEF\n"
        + HEADER  # a second export appended
        + RECORD.format(title="Six, at the end without ER", n=6)
    )
    records = parse_text(text)
    assert [r.title for r in records] == [
        "One",
        "Two, no ER",
        "Three",
        "Four",
        "Five, no PT",
        "Six, at the end without ER",
    ]
    assert records[2].raw.endswith("ER\nZ9 5")
    assert records[4].source_id == "WOS:5"
    assert records[0].authors == [Author("Doe", "Jane"), Author("Roe", "Richard")]
    assert records[0].doi == "10.1000/x"
    assert records[0].pages == "1-9"
    assert records[0].publication_types == ["Journal"]


def test_group_author_when_no_personal_authors() -> None:
    [record] = parse_text("PT J\nCA Cochrane Group; Other Group\nTI x\nER\n")
    assert record.authors == [Author("Cochrane Group"), Author("Other Group")]


def test_crlf_and_bom_bytes_through_open_text() -> None:
    text = HEADER + RECORD.format(title="Caf\u00e9 \u7814\u7a76", n=1) + "ER\nEF\n"
    data = text.replace("\n", "\r\n").encode("utf-8-sig")
    [record] = list(wos_tagged.parse(open_text(io.BytesIO(data))))
    assert record.title == "Caf\u00e9 \u7814\u7a76"
    assert "\r" not in record.raw


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_text(text)


def test_header_only_or_other_text_is_refused() -> None:
    with pytest.raises(ParseError, match="no 'PT ' line"):
        parse_text(HEADER + "EF\n")
    with pytest.raises(ParseError, match="MEDLINE"):
        parse_text("PMID- 1\nTI  - x\n")


def test_binary_data_is_refused() -> None:
    with pytest.raises(ParseError, match="binary") as caught:
        parse_text(HEADER + "PT J\nTI \x00\n")
    assert (caught.value.record, caught.value.line) == (1, 4)


class CountingStream(io.StringIO):
    lines_read = 0

    def __next__(self) -> str:
        line = super().__next__()
        self.lines_read += 1
        return line


def test_parse_streams_record_by_record() -> None:
    text = HEADER + (RECORD.format(title="One", n=1) + "ER\n\n") * 3 + "EF\n"
    stream = CountingStream(text)
    records = wos_tagged.parse(stream)
    assert isinstance(records, GeneratorType)
    assert next(records).title == "One"
    assert stream.lines_read < text.count("\n") / 2
    assert len(list(records)) == 2
