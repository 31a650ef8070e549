"""EndNote XML parser: every fixture, <style> unwrapping, Mendeley's style-less
export, bad input. Small records written here (marked) cover what the fixtures lack."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from searches.parsers import endnote_xml
from searches.parsers.base import Author, ParsedRecord, ParseError
from tests.searches.conftest import FIXTURES, manifest_counts

FOLDER = FIXTURES / "endnote-xml"
FILES = sorted(FOLDER.glob("*.xml"))
BLUE_LIGHT = FOLDER / "reflib_blue-light.xml"
MENDELEY = FOLDER / "asysd_mendeley_export.xml"


def parse_file(path: Path) -> list[ParsedRecord]:
    with path.open("rb") as handle:
        return list(endnote_xml.parse(handle))


def parse_text(xml: str) -> list[ParsedRecord]:
    return list(endnote_xml.parse(io.BytesIO(xml.encode("utf-8"))))


def styled(value: str) -> str:
    return f'<style face="normal" font="default" size="100%">{value}</style>'


def test_every_fixture_is_in_the_manifest() -> None:
    assert FILES, f"no fixtures in {FOLDER}"
    for path in FILES:
        assert f"endnote-xml/{path.name}" in manifest_counts()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_counts_and_core_fields(path: Path) -> None:
    records = parse_file(path)
    assert len(records) == int(manifest_counts()[f"endnote-xml/{path.name}"])
    with_title_and_year = [r for r in records if r.title and r.year]
    assert len(with_title_and_year) >= 0.99 * len(records)
    for record in records:
        assert record.raw.startswith("<record>") and record.raw.endswith("</record>")
        # DOI and PubMed id wherever the record carries them.
        if "<electronic-resource-num>" in record.raw:
            assert record.doi.startswith("10.")
        if "<accession-num>" in record.raw:
            assert record.pmid.isdigit() and record.source_id == record.pmid
        for value in (record.title, record.journal, record.abstract, *record.keywords):
            assert "<style" not in value and "\r" not in value


def test_style_wrapped_values_are_unwrapped() -> None:
    record = parse_file(BLUE_LIGHT)[0]
    assert record.title == (
        "Formulation of Herbal Gel of Antirrhinum majus Extract and Evaluation of its"
        " Anti-Propionibacterium acne Effects"
    )
    assert record.authors[0] == Author("Shahtalebi", "M. A.")
    assert len(record.authors) == 5
    assert record.journal == "Adv Biomed Res"
    assert record.year == 2018
    assert (record.volume, record.pages) == ("7", "53")
    assert record.doi == "10.4103/abr.abr_99_17"
    assert record.pmid == "29657938"
    assert record.pmcid == "PMC5887696"  # EndNote keeps PubMed's PMCID in custom2
    assert record.issn == "2277-9175"  # from '2277-9175 (Print)&#xD;2277-9175'
    assert record.keywords == [
        "Acne",
        "Antirrhinum majus",
        "Propionibacterium acnes",
        "blue light",
    ]
    assert record.language == "eng"
    assert record.publication_types == ["Journal Article"]
    assert record.abstract.startswith("BACKGROUND: Antirrhinum majus contains aurone")


def test_style_less_mendeley_export() -> None:
    records = parse_file(MENDELEY)
    first = records[0]
    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors == [
        Author("Rotter", "Carina"),
        Author("Whittaker", "Danielle"),
        Author("Rusbridge", "Clare"),
    ]
    assert first.journal == "Journal of veterinary internal medicine"
    assert (first.volume, first.issue, first.pages) == ("36", "3", "1032-1038")
    assert first.doi == "10.1111/jvim.16404"
    assert first.pmid == "35319117"
    assert first.year == 2022
    assert "Dog Diseases" in first.keywords
    generic = [r for r in records if r.publication_types == ["Generic"]]
    assert len(generic) == 100  # as the README says


def test_several_style_runs_corporate_author_and_custom_pmid() -> None:
    # Written for this test, in EndNote's layout.
    (record,) = parse_text(
        '<?xml version="1.0" encoding="UTF-8" ?><xml><records><record>'
        '<ref-type name="Book Section">5</ref-type>'
        "<contributors><authors>"
        f"<author>{styled('World Health Organization,')}</author>"
        f"<author>{styled('D&#xe0;vila, Jos&#xe9;')}</author>"
        "</authors></contributors>"
        f'<titles><title>{styled("Effects of ")}<style face="italic" font="default"'
        f' size="100%">Staphylococcus aureus</style>{styled(" on skin")}</title>'
        f"<secondary-title>{styled('Skin Infections')}</secondary-title></titles>"
        f"<dates><year>{styled('2nd ed. 2011')}</year></dates>"
        f"<keywords><keyword>{styled('acne&#xD;light therapy')}</keyword></keywords>"
        f"<custom3>{styled('PMID: 21234567')}</custom3>"
        f"<accession-num>{styled('WOS:000290123400001')}</accession-num>"
        f"<urls><related-urls><url>{styled('https://doi.org/10.1000/XYZ.1')}</url>"
        "</related-urls></urls>"
        "</record></records></xml>"
    )
    assert record.title == "Effects of Staphylococcus aureus on skin"
    assert record.authors == [
        Author("World Health Organization"),
        Author("Dàvila", "José"),
    ]
    assert record.journal == "Skin Infections"
    assert record.year == 2011
    assert record.keywords == ["acne", "light therapy"]
    assert record.pmid == "21234567"
    assert record.source_id == "WOS:000290123400001"
    assert record.doi == "10.1000/xyz.1"
    assert record.url == "https://doi.org/10.1000/XYZ.1"
    assert record.publication_types == ["Book Section"]


def test_embase_accession_number_is_not_a_pmid() -> None:
    (record,) = parse_text(
        "<xml><records><record><titles><title>T</title></titles>"
        "<accession-num>20213456</accession-num>"
        "<remote-database-name>Embase</remote-database-name>"
        "</record></records></xml>"
    )
    assert record.pmid == "" and record.source_id == "20213456"


def test_control_characters_are_dropped() -> None:
    # XML 1.0 forbids them, raw or as references; exports carry them from PDFs.
    (record,) = parse_text(
        "<xml><records><record><titles><title>Vertical\x0btab&#x0B; and"
        " bell&#7; &amp; tab&#9;kept</title></titles></record></records></xml>"
    )
    assert record.title == "Verticaltab and bell & tab kept"


def test_wrong_encoding_is_named() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<xml><records>\n'
        b"<record><titles><title>Caf\xe9</title></titles></record></records></xml>"
    )
    with pytest.raises(ParseError, match="declared encoding") as caught:
        list(endnote_xml.parse(io.BytesIO(data)))
    assert caught.value.line == 3


def test_utf16_file() -> None:
    text = "<xml><records><record><titles><title>Café</title></titles></record>"
    text += "</records></xml>"
    (record,) = endnote_xml.parse(io.BytesIO(text.encode("utf-16")))
    assert record.title == "Café"


def test_truncated_file_names_the_line_and_record() -> None:
    data = MENDELEY.read_bytes()  # one line
    read: list[ParsedRecord] = []
    with pytest.raises(ParseError, match="cut off") as caught:
        read.extend(endnote_xml.parse(io.BytesIO(data[: len(data) // 2])))
    assert caught.value.line == 1
    assert caught.value.record == len(read) + 1 and len(read) > 500


def test_truncated_multiline_file() -> None:
    text = (
        "<xml><records>\n" + "<record><titles><title>A</title></titles></record>\n" * 3
    )
    read: list[ParsedRecord] = []
    with pytest.raises(ParseError) as caught:
        read.extend(
            endnote_xml.parse(io.BytesIO(f"{text}<record><title>B</ti".encode()))
        )
    assert (caught.value.record, caught.value.line) == (4, 5)
    assert len(read) == 3


def test_empty_and_non_xml_files() -> None:
    with pytest.raises(ParseError, match="empty"):
        list(endnote_xml.parse(io.BytesIO(b"")))
    data = (FIXTURES / "bibtex" / "pybibx_scopus_m.bib").read_bytes()
    with pytest.raises(ParseError, match="not XML"):
        list(endnote_xml.parse(io.BytesIO(data)))


def test_pubmed_xml_is_refused_with_a_hint() -> None:
    with pytest.raises(ParseError, match="PubMed XML format"):
        parse_file(FIXTURES / "pubmed-xml" / "biopython_pubmed2.xml")
