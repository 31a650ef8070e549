"""RIS parser: every RIS fixture, the dialects' quirks, broken input, streaming."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Iterator
from types import GeneratorType

import pytest

from searches.parsers import ris
from searches.parsers.base import Author, ParsedRecord, ParseError, open_text
from tests.searches.conftest import FIXTURES, manifest_counts

RIS_FILES = sorted(name for name in manifest_counts() if name.startswith("ris/"))


def parse_file(name: str) -> list[ParsedRecord]:
    with (FIXTURES / name).open("rb") as binary:
        return list(ris.parse(open_text(binary)))


def parse_text(text: str) -> list[ParsedRecord]:
    return list(ris.parse(io.StringIO(text)))


def parse_bytes(data: bytes) -> list[ParsedRecord]:
    return list(ris.parse(open_text(io.BytesIO(data))))


# --- Every fixture file ------------------------------------------------------


def test_every_ris_fixture_is_in_the_manifest() -> None:
    on_disk = {f"ris/{path.name}" for path in (FIXTURES / "ris").iterdir()}
    assert on_disk == set(RIS_FILES)


@pytest.mark.parametrize("name", RIS_FILES)
def test_fixture_record_count_titles_and_years(name: str) -> None:
    records = parse_file(name)
    assert len(records) == int(manifest_counts()[name])
    assert sum(bool(r.title) for r in records) >= 0.99 * len(records)
    assert sum(r.year is not None for r in records) >= 0.99 * len(records)
    assert all(r.raw.lstrip().startswith("TY  -") for r in records)
    assert sum(bool(r.authors) for r in records) >= 0.95 * len(records)


_DOI_CARRIED = re.compile(r"^(?:DO|L3)  - .*10\.\d{4,9}/|doi\.org/10\.", re.MULTILINE)


@pytest.mark.parametrize("name", RIS_FILES)
def test_fixture_dois_where_the_file_carries_them(name: str) -> None:
    records = parse_file(name)
    carrying = [r for r in records if _DOI_CARRIED.search(r.raw)]
    assert all(r.doi.startswith("10.") for r in carrying), [
        r.title for r in carrying if not r.doi
    ]
    assert all(r.doi == r.doi.lower() and " " not in r.doi for r in records)


def _carries_pmid(raw: str) -> bool:
    if re.search(r"^C2  - \d{1,9}$", raw, re.MULTILINE):  # Scopus
        return True
    if re.search(r"^C5  - \d{1,9}$", raw, re.MULTILINE) and "DB  - Embase" in raw:
        return True
    return bool(re.search(r"^AN  - \d{1,9}$", raw, re.MULTILINE) and "DP  - NLM" in raw)


@pytest.mark.parametrize("name", RIS_FILES)
def test_fixture_pmids_where_the_file_carries_them(name: str) -> None:
    records = parse_file(name)
    carrying = [r for r in records if _carries_pmid(r.raw)]
    assert all(r.pmid.isdigit() for r in carrying)
    assert all(r.pmid in r.raw for r in records)


def test_pmid_counts_in_the_files_that_carry_them() -> None:
    def with_pmid(name: str) -> int:
        return sum(bool(r.pmid) for r in parse_file(name))

    assert with_pmid("ris/reflib_blue-light.ris") == 102  # AN, DP NLM
    assert with_pmid("ris/cff_baseline_scopus.ris") == 7  # C2
    assert with_pmid("ris/cff_baseline_embase.ris") == 4  # C5
    assert with_pmid("ris/citesource_gambling-harms_pubmed_176.ris") == 0  # none


# --- Dialects ----------------------------------------------------------------


def test_embase_initials_accession_pubmed_id_and_full_journal_name() -> None:
    old = parse_file("ris/asreview_embase.ris")[0]
    assert old.authors == [Author("Liu", "R."), Author("Adler", "D.G.")]
    record = parse_file("ris/cff_baseline_embase.ris")[0]
    assert record.title.startswith("Cellular structure of dinosaur scales")
    assert record.journal == "Nature Communications"  # JF, not JO 'Nat. Commun.'
    assert record.pmid == "38773066"  # C5
    assert record.source_id == "L2029880245"  # U2
    assert record.doi == "10.1038/s41467-024-48400-3"
    assert record.issn == "2041-1723"
    assert record.year == 2024
    assert "dinosaur" in record.keywords


def test_ovid_stray_lines_after_er_stay_with_their_record() -> None:
    records = parse_file("ris/asreview_ovid_psycinfo.ris")
    assert len(records) == 6
    first = records[0]
    assert first.title.startswith("The influence of self-criticism on depression")
    assert first.raw.endswith("NL  - Clin Psychol Psychother")
    assert "Link to the Ovid" not in first.raw
    assert first.journal == "Clinical Psychology & Psychotherapy"
    assert first.doi == "10.1002/cpp.2398"  # DO given as a dx.doi.org URL
    assert first.pages == ""  # 'SP  - No' / 'EP  - Specified'
    assert first.source_id == "2019-65183-001"
    assert first.year == 2019
    assert first.authors[0] == Author("Trindade", "Ines A")
    assert all(r.raw.startswith("TY  - JOUR") for r in records)
    assert len({r.title for r in records}) == 6


def test_endnote_continuation_lines_are_one_value_each() -> None:
    record = parse_file("ris/cff_baseline_endnote.ris")[0]
    assert record.keywords == [
        "article",
        "biostratigraphy",
        "Colorado",
        "dinosaur",
        "nonhuman",
        "tibia",
        "transverse process",
        "Upper Jurassic",
    ]
    assert record.issn == "1932-8494"  # SN with a second ISSN on the next line
    assert record.authors[0] == Author("Boisvert", "C.")


def test_endnote_from_pubmed_with_bom_and_crlf() -> None:
    records = parse_file("ris/reflib_blue-light.ris")
    by_pmid = {r.pmid: r for r in records}
    record = by_pmid["25388823"]  # AN, DP NLM
    assert record.source_id == "25388823"
    assert record.pages == "479-488"  # SP '479-88'
    assert record.doi == "10.1007/s40257-014-0099-z"
    assert record.journal == "Am J Clin Dermatol"
    assert "\r" not in record.raw and "\ufeff" not in record.raw
    assert by_pmid["29657938"].pmcid == "PMC5887696"  # C2
    structured = records[0]
    assert [label for label, _ in structured.abstract_sections][:2] == [
        "BACKGROUND",
        "MATERIALS AND METHODS",
    ]
    assert structured.abstract.startswith("BACKGROUND: Antirrhinum majus")


def test_web_of_science_ris_with_indented_abstract_paragraphs() -> None:
    record = parse_file("ris/cff_baseline_webofscience.ris")[0]
    assert record.source_id == "WOS:000282053100002"
    assert record.year == 2010  # PY, not DA 'SEP 22'
    assert record.journal == "PLOS ONE"
    assert record.pages == "e12292" or record.pages == ""
    assert [label for label, _ in record.abstract_sections] == [
        "Background",
        "Methodology/Principal Findings",
        "Conclusions/Significance",
    ]
    assert record.abstract.count("\n") == 2
    assert record.authors[0] == Author("Sampson", "SD")


def test_asreview_web_of_science_txt_is_ris() -> None:
    records = parse_file("ris/asreview_web_of_science.txt")
    assert len(records) == 10
    assert records[0].title.startswith("Holding Yourself Captive")
    assert all(r.source_id.startswith("WOS:") for r in records if r.source_id)


def test_ebsco_copyright_notice_doi_in_l3_and_accession_in_n1() -> None:
    record = parse_file("ris/citesource_gambling-harms_crimjust_41.ris")[0]
    assert record.abstract.startswith("Within a neo-liberal economic orthodoxy")
    assert "Copyright of" not in record.abstract
    assert record.doi == "10.1080/16066359.2020.1867111"  # L3
    assert record.source_id == "150283836"  # N1 'Accession Number: ...'
    assert record.pages == "212-222"
    assert record.issn == "1606-6359"
    assert record.year == 2021  # Y1 '2021/06//'


def test_proquest_accession_and_doi_url() -> None:
    record = parse_file("ris/asreview_proquest.ris")[0]
    assert record.source_id == "2214991469"  # AN '2214991469; 51887'
    assert record.doi == "10.1002/jts.22387"
    assert record.issn == "0894-9867"
    assert record.url.startswith("https://search.proquest.com/docview/2214991469")


def test_scopus_pubmed_id_in_c2_and_eid_from_the_link() -> None:
    record = parse_file("ris/cff_baseline_scopus.ris")[1]
    assert record.pmid == "36971057"
    assert record.source_id == "2-s2.0-85151426146"
    assert record.journal == "Anatomical Record"
    assert record.pages == "1084-1092"
    assert record.authors[2] == Author("Müller", "R.T.")


def test_openalex_accented_names_and_equal_start_end_pages() -> None:
    record = parse_file("ris/cff_baseline_openalex.ris")[0]
    assert record.title == (
        "A bioprovince for the Barremian–Aptian charophytes of the Central "
        "Tethyan Archipelago"
    )
    assert Author("Pérez-Cano", "Jordi") in record.authors
    assert record.authors[-1] == Author("Martín–Closas", "Carles")
    assert record.pages == "105752"
    assert record.language == "en"


def test_covidence_empty_tags_and_n2_abstract() -> None:
    record = parse_file("ris/cff_baseline_covidence_endnote.ris")[0]
    assert record.abstract.startswith("Fossil feathers have transformed")  # N2
    assert record.source_id == ""  # 'AN  - ' is empty
    assert record.pages == ""
    assert record.journal == "Nature Communications"


def test_pubmed_ris_two_issns_and_year() -> None:
    record = parse_file("ris/citesource_gambling-harms_pubmed_176.ris")[0]
    assert record.issn == "1660-4601"  # 'SN  - 1660-4601 1661-7827'
    assert record.year == 2021
    assert record.journal == (
        "International journal of environmental research and public health"
    )
    assert record.language == "eng"


# --- Inline input ------------------------------------------------------------

MIXED = """\
TY  - JOUR
TI  - Title from TI
AB  - Abstract from AB
PY  - 2001
JO  - J. Abbr.
JF  - Journal Full One
SP  - 10
EP  - 19
ER  -

TY  - JOUR
T1  - Title from T1
N2  - Abstract from N2
Y1  - 2002///
T2  - Journal Two
J2  - J Two
ER  -

TY  - CHAP
T1  - T1 wins when TI is missing
AB  - Short.
N2  - A longer abstract given in N2 instead.
DA  - 2003/05/01
JA  - Abbr. Three
ER  -

TY  - JOUR
TI  - TI and T1 both present
T1  - the T1 one
Y1  - 1999
PY  - 2004
J2  - Nat. Commun.
JO  - Nature Communications
ER  -
"""


def test_tag_variants_are_read_per_record() -> None:
    records = parse_text(MIXED)
    assert [r.title for r in records] == [
        "Title from TI",
        "Title from T1",
        "T1 wins when TI is missing",
        "TI and T1 both present",
    ]
    assert [r.abstract for r in records] == [
        "Abstract from AB",
        "Abstract from N2",
        "A longer abstract given in N2 instead.",
        "",
    ]
    assert [r.year for r in records] == [2001, 2002, 2003, 2004]
    assert [r.journal for r in records] == [
        "Journal Full One",
        "Journal Two",
        "Abbr. Three",
        "Nature Communications",
    ]
    assert records[0].pages == "10-19"
    assert records[2].publication_types == ["Book chapter"]


def test_identifiers_from_every_place_they_hide() -> None:
    records = parse_text(
        "TY  - JOUR\nTI  - Two DOIs in one DO\nDO  - 10.1000/ABC.1; 10.1000/def.2\n"
        "DO  - 10.1000/ghi\nER  -\n"
        "TY  - JOUR\nTI  - DOI only in a doi.org link\n"
        "UR  - https://doi.org/10.1016/J.CRETRES.2023.105752\nER  -\n"
        "TY  - JOUR\nTI  - DOI in a Scopus link\n"
        "UR  - https://www.scopus.com/inward/record.uri?eid=2-s2.0-1"
        "&doi=10.1038%2fs41467-024-46843-2&partnerID=40\nER  -\n"
        "TY  - JOUR\nTI  - PMID in a note, DOI in M3\nN1  - PMID: 31234567 [Indexed]\n"
        "M3  - 10.5555/m3.doi\nER  -\n"
        "TY  - JOUR\nTI  - PMID in a PubMed link\n"
        "UR  - https://pubmed.ncbi.nlm.nih.gov/29768149/\nC2  - PMC6105317\nER  -\n"
    )
    assert [r.doi for r in records] == [
        "10.1000/abc.1",
        "10.1016/j.cretres.2023.105752",
        "10.1038/s41467-024-46843-2",
        "10.5555/m3.doi",
        "",
    ]
    assert [r.pmid for r in records] == ["", "", "", "31234567", "29768149"]
    assert records[4].pmcid == "PMC6105317"
    assert records[2].source_id == "2-s2.0-1"


def test_continuation_lines_and_loose_tag_spacing() -> None:
    [record] = parse_text(
        "TY  -JOUR\n"
        "TI  - A title that\n"
        "   runs over two lines\n"
        "AU  - Smith, John; Jones, K.\n"
        "A1  - Brown, A.\n"
        "KW - one; two\n"
        "three\n"
        "AB  - BACKGROUND: First part. METHODS: Second part.\n"
        "RESULTS: Third part.\n"
        "ER  -"
    )
    assert record.title == "A title that runs over two lines"
    assert record.authors == [
        Author("Smith", "John"),
        Author("Jones", "K."),
        Author("Brown", "A."),
    ]
    assert record.keywords == ["one", "two", "three"]
    assert record.abstract_sections == [
        ("BACKGROUND", "First part."),
        ("METHODS", "Second part."),
        ("RESULTS", "Third part."),
    ]
    assert record.publication_types == ["Journal"]


def test_crlf_and_bom_bytes_through_open_text() -> None:
    text = "TY  - JOUR\r\nTI  - Caf\u00e9 \u7814\u7a76\r\nPY  - 2020\r\nER  - \r\n"
    for data in (
        b"\xef\xbb\xbf" + text.encode("utf-8"),
        text.encode("utf-16"),  # with its BOM
        text.replace("\u7814\u7a76", "").encode("cp1252"),
    ):
        [record] = parse_bytes(data)
        assert record.title.startswith("Café")
        assert record.year == 2020
        assert "\r" not in record.raw


def test_a_bom_before_every_record() -> None:
    records = parse_text(
        "\ufeffTY  - JOUR\nTI  - One\nER  -\n\ufeffTY  - JOUR\nTI  - Two\nER  -\n"
    )
    assert [r.title for r in records] == ["One", "Two"]


def test_new_ty_before_er_ends_the_record_before() -> None:
    records = parse_text(
        "TY  - JOUR\nTI  - First\nPY  - 2001\nER  -\n"
        "TY  - JOUR\nTI  - Second, its ER is missing\nPY  - 2002\n"
        "TY  - JOUR\nTI  - Third\nPY  - 2003\nER  -\n"
    )
    assert [r.title for r in records] == [
        "First",
        "Second, its ER is missing",
        "Third",
    ]
    assert [r.year for r in records] == [2001, 2002, 2003]
    assert "Third" not in records[1].raw


def test_a_record_that_lost_its_ty_line_is_kept() -> None:
    records = parse_text(
        "TY  - JOUR\nTI  - First\nER  -\n\n"
        "TI  - Second, no TY\nPY  - 2002\nER  -\n\n"
        "TY  - JOUR\nTI  - Third\nER  -\n"
        "TI  - Fourth, neither TY nor ER\n"
    )
    assert [r.title for r in records] == [
        "First",
        "Second, no TY",
        "Third",
        "Fourth, neither TY nor ER",
    ]
    assert records[1].publication_types == []


def test_a_first_record_without_ty_and_one_space_tags() -> None:
    records = parse_text(
        "TI  - First, no TY\nER  -\nTY - JOUR\nTI - One space before the hyphen\n"
        "OR - 1.5 is prose, not a tag\nER -\n"
    )
    assert [r.title for r in records] == [
        "First, no TY",
        "One space before the hyphen OR - 1.5 is prose, not a tag",
    ]


def test_the_last_record_without_er_is_kept() -> None:
    records = parse_text("TY  - JOUR\nTI  - One\nER  -\nTY  - JOUR\nTI  - Two\n")
    assert [r.title for r in records] == ["One", "Two"]


def test_junk_before_the_first_record_is_ignored() -> None:
    records = parse_text("Exported 2024-01-01\n\n1.\nTY  - JOUR\nTI  - One\nER  -\n")
    assert [r.title for r in records] == ["One"]


def test_missing_year_and_title_stay_empty() -> None:
    [record] = parse_text("TY  - JOUR\nAB  - Only an abstract.\nPY  - n.d.\nER  -\n")
    assert record.title == ""
    assert record.year is None


@pytest.mark.parametrize("text", ["", "\n\n   \n", "\ufeff"])
def test_empty_file(text: str) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse_text(text)


def test_non_ris_text_file() -> None:
    with pytest.raises(ParseError) as caught:
        parse_text("Dear colleague,\nplease find attached the references.\n")
    assert "does not look like a RIS file" in caught.value.message
    assert "TY  -" in caught.value.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("PMID- 123\nTI  - x\n", "MEDLINE"),
        ("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\n", "Web of Science"),
        ('<?xml version="1.0"?>\n<PubmedArticleSet>\n', "XML"),
        ("@article{key,\n title={x}\n}\n", "BibTeX"),
        ("Title,Authors,Year,DOI\nx,y,2000,10.1/x\n", "CSV"),
    ],
)
def test_other_formats_are_named(text: str, hint: str) -> None:
    with pytest.raises(ParseError, match=hint):
        parse_text(text)


def test_a_file_of_records_without_any_ty_is_refused() -> None:
    with pytest.raises(ParseError, match="no 'TY  -' line"):
        parse_text("TI  - One\nER  -\n" * 60)


def test_binary_data_is_refused_with_record_and_line() -> None:
    with pytest.raises(ParseError) as caught:
        parse_text("TY  - JOUR\nTI  - One\nER  -\nTY  - JOUR\nTI  - \x00\x01\x02\n")
    assert caught.value.record == 2
    assert caught.value.line == 5
    assert "binary" in caught.value.message


# --- Streaming ---------------------------------------------------------------


class CountingStream(io.StringIO):
    """A text stream that counts the lines taken from it."""

    lines_read = 0

    def __next__(self) -> str:
        line = super().__next__()
        self.lines_read += 1
        return line


def test_parse_streams_record_by_record() -> None:
    stream = CountingStream("TY  - JOUR\nTI  - One\nER  -\n" * 3)
    records = ris.parse(stream)
    assert isinstance(records, GeneratorType)
    assert stream.lines_read == 0
    assert next(records).title == "One"
    assert stream.lines_read < 9
    assert len(list(records)) == 2


class EndlessRis:
    """`count` generated records, made line by line, never held in memory."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __iter__(self) -> Iterator[str]:
        for number in range(self.count):
            yield "TY  - JOUR\n"
            yield f"TI  - Record number {number}\n"
            yield "AU  - Smith, John\nAU  - Doe, Jane\nPY  - 2020\n"
            yield f"DO  - 10.1000/{number}\n"
            yield "AB  - " + "An abstract sentence. " * 40 + "\n"
            yield "ER  - \n\n"


def test_memory_stays_flat() -> None:
    tracemalloc.start()
    try:
        count = 0
        for record in ris.parse(EndlessRis(20_000)):  # type: ignore[arg-type]
            count += 1
            assert record.title
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 2_000_000  # bytes: a few records' worth, not 20,000
