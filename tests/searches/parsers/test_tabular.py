"""CSV/TSV/Excel importer: every tabular fixture, the known layouts, the column
mapping and the errors a person uploading a file can meet."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO, cast

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped]

from searches.parsers import (
    FORMATS,
    Author,
    ParsedRecord,
    ParseError,
    tabular,
    tabular_excel,
)
from searches.parsers.base import open_text
from searches.parsers.tabular import (
    ColumnMapping,
    detect_mapping,
    parse,
    read_header,
    split_authors,
)
from tests.searches.conftest import FIXTURES, manifest_counts

SYNERGY = "screening-labelled/synergy_Cohen_2006_ProtonPumpInhibitors_ids.csv"


def _parse_file(name: str, mapping: ColumnMapping | None = None) -> list[ParsedRecord]:
    with (FIXTURES / name).open("rb") as binary:
        return list(parse(open_text(binary), mapping))


def _header(name: str) -> tuple[list[str], str]:
    with (FIXTURES / name).open("rb") as binary:
        return read_header(open_text(binary))


def _text(content: str) -> io.StringIO:
    return io.StringIO(content)


def _records(content: str, mapping: ColumnMapping | None = None) -> list[ParsedRecord]:
    return list(parse(_text(content), mapping))


def _expected_count(name: str) -> int:
    match = re.match(r"\d+", manifest_counts()[name])
    assert match, name
    return int(match.group(0))


# --- Every CSV/TSV fixture --------------------------------------------------

# file -> (layout, has a year column, records with a DOI, records with a PMID)
FILES = {
    "scopus-csv/cff_baseline_scopus.csv": ("scopus", True, 10, 7),
    "scopus-csv/litstudy_scopus.csv": ("scopus", True, 44, 24),
    "wos-tab/scientopy_wos_2026_04_02_4071.txt": ("wos_tab", True, 37, 16),
    "other-csv/cff_baseline_pubmed.csv": ("pubmed_csv", True, 10, 10),
    "other-csv/cff_baseline_cochrane.csv": ("cochrane_central", True, 3, 3),
    "other-csv/cff_baseline_covidence.csv": ("covidence", True, 10, 0),
    "other-csv/cff_baseline_rayyan.csv": ("rayyan", True, 10, 0),
    "other-csv/litstudy_ieee.csv": ("ieee_xplore", True, 10, 0),
    # No year or DOI column: both come from 'Source' and the OpenURL link.
    "other-csv/asreview_embase.csv": ("embase_csv", True, 6, 0),
    # 492 DOIs are 'NA' and 2 are malformed ('10.231/...').
    "dedup-labelled/diabetes/asysd_labelled_test_set.csv": ("asysd", True, 1351, 0),
    "dedup-labelled/haematology/records_pre_merged.csv": ("bib_dedupe", True, 0, 0),
    "screening-labelled/Bannach-Brown_2019.csv": ("asreview", True, 0, 0),
    "screening-labelled/Kitchenham_2010.csv": ("asreview", True, 0, 0),
    "screening-labelled/Cohen_2006_ProtonPumpInhibitors.csv": (
        "asreview",
        False,
        0,
        1333,
    ),
}


def test_every_tabular_fixture_is_covered() -> None:
    tabular_files = {
        name
        for name in manifest_counts()
        if name.startswith(("scopus-csv/", "wos-tab/", "other-csv/", "screening-"))
        or name.endswith(("records_pre_merged.csv", "labelled_test_set.csv"))
    }
    assert tabular_files == {*FILES, SYNERGY}


@pytest.mark.parametrize("name", sorted(FILES))
def test_fixture(name: str) -> None:
    layout, has_year, with_doi, with_pmid = FILES[name]
    header, _ = _header(name)
    mapping = detect_mapping(header)
    assert mapping is not None and mapping.layout == layout

    records = _parse_file(name)

    assert len(records) == _expected_count(name)
    count = len(records)
    titled = sum(bool(r.title) for r in records)
    if name.endswith("records_pre_merged.csv"):
        # 'Some titles are empty': id_0000002 and id_0001415 (which is near empty).
        assert count - titled == 2
        assert [r.source_id for r in records if not r.title] == [
            "id_0000002",
            "id_0001415",
        ]
    else:
        assert titled >= 0.99 * count
    if has_year:
        assert sum(r.year is not None for r in records) >= 0.99 * count
        assert all(1500 <= r.year <= 2100 for r in records if r.year is not None)
    assert sum(bool(r.doi) for r in records) == with_doi
    assert all(
        r.doi.startswith("10.") and r.doi == r.doi.lower() for r in records if r.doi
    )
    assert sum(bool(r.pmid) for r in records) == with_pmid
    assert all(r.pmid.isdigit() for r in records if r.pmid)
    for record in records:
        raw = json.loads(record.raw)
        assert set(raw) == set(header)


def test_synergy_ids_file_has_no_title_column() -> None:
    header, delimiter = _header(SYNERGY)
    assert (header, delimiter) == (
        ["pmid", "doi", "openalex_id", "label_included"],
        ",",
    )
    assert detect_mapping(header) is None

    with pytest.raises(ParseError) as caught:
        _parse_file(SYNERGY)

    assert caught.value.message == (
        "Unknown CSV layout: no title column among: pmid, doi, openalex_id, "
        "label_included. Map the columns by hand."
    )


def test_synergy_ids_file_with_a_mapping() -> None:
    mapping = ColumnMapping(pmid=("pmid",), doi=("doi",), source_id=("openalex_id",))

    records = _parse_file(SYNERGY, mapping)

    assert len(records) == _expected_count(SYNERGY) == 1333
    assert not any(r.title for r in records)
    # PMIDs are PubMed URLs and DOIs doi.org URLs (224 empty) in this file.
    assert all(r.pmid.isdigit() for r in records)
    assert sum(bool(r.doi) for r in records) == 1333 - 224
    first = records[0]
    assert (first.pmid, first.doi, first.source_id) == (
        "10024259",
        "10.1136/bmj.318.7182.502",
        "https://openalex.org/W2084676120",
    )


# --- Known layouts, field by field ------------------------------------------


def test_scopus_2024_prefers_author_full_names() -> None:
    records = _parse_file("scopus-csv/cff_baseline_scopus.csv")
    first, second = records[0], records[1]

    # 'Author full names' ("Wilson, Lauren N. (58975547800); ...") wins over
    # 'Authors' ("Wilson L.N.; ..."); the Scopus author ids are dropped.
    assert first.authors[:2] == [
        Author("Wilson", "Lauren N."),
        Author("Gardner", "Jacob D."),
    ]
    assert len(first.authors) == 8
    assert first.title.startswith("Global latitudinal gradients")
    assert (first.year, first.journal, first.volume, first.issue) == (
        2024,
        "Nature Communications",
        "15",
        "1",
    )
    assert first.pages == "2864"  # no Page start/end: the article number
    assert first.doi == "10.1038/s41467-024-46843-2"
    assert first.source_id == "2-s2.0-85189760133"
    assert first.url.startswith("https://www.scopus.com/inward/record.uri?eid=")
    # Page start / Page end become pages; the ISSN gets its hyphen.
    assert second.pages == "1084-1092"
    assert (second.issn, second.pmid) == ("1932-8486", "36971057")
    assert second.keywords[:2] == ["bone histology", "ornithodira"]
    assert "Air Sacs" in second.keywords  # Index Keywords too
    assert (second.language, second.publication_types) == ("English", ["Article"])


def test_scopus_authors_column_alone() -> None:
    header = "Authors,Title,Year,Source title,EID\n"
    row = '"Wilson L.N.; Gardner J.D.; Kalé L.","A title",2024,"Nature","2-s2.0-1"\n'

    (record,) = _records(header + row)

    assert record.authors == [
        Author("Wilson", "L.N."),
        Author("Gardner", "J.D."),
        Author("Kalé", "L."),
    ]


def test_scopus_older_layout_and_its_extra_funding_text_cells() -> None:
    records = _parse_file("scopus-csv/litstudy_scopus.csv")
    first, third = records[0], records[2]

    # Older exports separate authors with commas and have no full names.
    assert first.authors[:2] == [Author("Phillips", "J.C."), Author("Braun", "R.")]
    assert Author("Kalé", "L.") in first.authors
    assert len(first.authors) == 10
    assert first.pages == "1781-1802"
    assert (first.issn, first.source_id) == ("0192-8651", "2-s2.0-27344436659")
    # 56 of the 58 rows have one cell more than the 45-column header (a second
    # 'Funding Text'); the columns after it are read from the right place.
    assert (third.issn, third.pmid, third.language) == (
        "2045-2322",
        "35064163",
        "English",
    )
    assert (third.publication_types, third.source_id) == (
        ["Article"],
        "2-s2.0-85123480963",
    )
    assert sum(r.title == "" for r in records) == 0
    assert sum(not r.authors for r in records) == 9  # '[No author name available]'


def test_wos_tab_delimited() -> None:
    records = _parse_file("wos-tab/scientopy_wos_2026_04_02_4071.txt")
    first, second = records[0], records[1]

    # AF full names 'Family, Given; ...' are preferred to AU 'Family, GG'.
    assert first.authors[:3] == [
        Author("Sheeja Prakash", "Karthika"),
        Author("Andersen", "Erik"),
        Author("von Einem", "Vicky Chantal"),
    ]
    assert first.title.startswith("Design and Implementation of a Wearable System")
    assert (first.journal, first.year, first.volume, first.issue) == (
        "ADVANCED SENSOR RESEARCH",
        2023,
        "2",
        "10",
    )
    assert first.pages == "2300058"  # AR article number, no BP/EP
    assert (first.doi, first.issn) == ("10.1002/adsr.202300058", "2751-1219")
    assert first.source_id == "WOS:001242600300012"
    assert first.keywords[0] == "anterior cruciate ligament rupture"  # DE
    assert "CRUCIATE LIGAMENT RECONSTRUCTION" in first.keywords  # ID
    assert (first.language, first.publication_types) == ("English", ["Article"])
    assert (second.pages, second.pmid) == ("604-614", "27106171")
    # Book chapters have book authors (BA) only; '[Anonymous]' is no author.
    assert sum(not r.authors for r in records) == 3


def test_pubmed_csv() -> None:
    records = _parse_file("other-csv/cff_baseline_pubmed.csv")
    first, second = records[0], records[1]

    assert [r.pmid for r in records[:2]] == ["30922926", "37068225"]
    assert all(re.fullmatch(r"\d{8}", r.pmid) for r in records)
    assert first.source_id == first.pmid
    assert first.pmcid == "PMC7026692"
    # 'Griffin DK, Larkin DM, O'Connor RE.': the list's final period is dropped.
    assert first.authors == [
        Author("Griffin", "DK"),
        Author("Larkin", "DM"),
        Author("O'Connor", "RE"),
    ]
    assert (first.journal, first.year) == ("Eur J Med Genet", 2020)
    # Volume, issue and pages come from the Citation column.
    assert (first.volume, first.issue, first.pages) == ("63", "2", "103640")
    assert second.authors[0] == Author("Peñalver", "E")
    assert second.pages == "e2217872120"


def test_rayyan_csv() -> None:
    first = _parse_file("other-csv/cff_baseline_rayyan.csv")[0]

    assert first.authors == [
        Author("Yang", "Z."),
        Author("Jiang", "B."),
        Author("Xu", "J."),
        Author("McNamara", "M.E."),
    ]
    assert first.source_id == "rayyan-42924189"
    # Rayyan leaves RIS debris after values: 'doi     LK  - https://...'.
    assert first.doi == "10.1038/s41467-024-48400-3"
    assert first.url == (
        "https://www.embase.com/search/results?subaction=viewrecord"
        "&id=L2029880245&from=export"
    )
    assert (first.issn, first.language, first.year) == ("2041-1723", "English", 2024)
    assert first.keywords[:3] == ["keratin", "melanin", "animal scales"]


def test_cochrane_covidence_ieee_embase() -> None:
    cochrane = _parse_file("other-csv/cff_baseline_cochrane.csv")[1]
    assert cochrane.source_id == "CN-02677909"
    assert cochrane.pmid == "38407106"  # 'PUBMED 38407106'
    assert cochrane.pages == "1279-1297"  # U+2010 hyphen
    assert cochrane.authors[0] == Author("Kim", "JS")
    assert cochrane.journal == "Developmental psychology"

    covidence = _parse_file("other-csv/cff_baseline_covidence.csv")[1]
    assert covidence.source_id == "#2"
    assert covidence.authors[1] == Author("Dos Santos", "H.B.")
    assert (covidence.year, covidence.pages) == (2024, "14316")

    ieee = _parse_file("other-csv/litstudy_ieee.csv")
    assert ieee[0].pages == "16-26"
    assert ieee[0].authors == [Author("Kogge", "P."), Author("Shalf", "J.")]
    assert Author("Nominé", "J.-P.") in ieee[1].authors
    assert ieee[1].publication_types == ["IEEE Conferences"]

    embase = _parse_file("other-csv/asreview_embase.csv")[1]
    # 'Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004'
    assert (embase.journal, embase.year, embase.volume, embase.issue) == (
        "Cancer",
        2004,
        "102",
        "4",
    )
    assert embase.pages == "253-258"
    # DOI and ISSN from the OpenURL link ('id=doi:10.1002%2Fcncr.20369').
    assert (embase.doi, embase.issn) == ("10.1002/cncr.20369", "0008-543X")
    assert embase.authors[:2] == [Author("Eloubeidi", "M.A."), Author("Cohn", "M.")]
    # Emtree terms are comma-separated; commas inside brackets are kept.
    first = _parse_file("other-csv/asreview_embase.csv")[0]
    assert "bronchogenic duplication cyst (diagnosis, surgery)" in first.keywords


def test_asysd_windows_1252_file() -> None:
    records = _parse_file("dedup-labelled/diabetes/asysd_labelled_test_set.csv")
    by_id = {r.source_id: r for r in records}

    record = by_id["699"]
    # Byte 0xA9 in the file is Windows-1252's copyright sign.
    assert record.abstract.endswith("© 2008 Lippincott Williams & Wilkins Inc.")
    assert "\ufffd" not in "".join(r.abstract + r.title for r in records)
    # Names run together: 'Adeli K.Lewis G. F.'
    assert record.authors == [Author("Adeli", "K."), Author("Lewis", "G. F.")]
    assert record.doi == "10.1097/mol.0b013e3282ffaf82"  # from http://dx.doi.org/
    assert (record.issn, record.pages, record.year) == ("0957-9672", "221-228", 2008)
    # R's 'NA' is read as empty.
    assert not any(r.doi == "NA" or r.pages == "NA" or r.issn == "NA" for r in records)
    # A quoted cell with CRLF line breaks stays one record.
    assert len(by_id) == 1845


def test_haematology_bibtex_style_authors() -> None:
    first = _parse_file("dedup-labelled/haematology/records_pre_merged.csv")[0]

    assert first.authors[:2] == [Author("Zuber", "J"), Author("Le Quintrec", "M")]
    assert len(first.authors) == 6
    assert (first.pages, first.volume, first.issue) == ("23-35", "7", "1")
    assert first.publication_types == ["article"]


def test_screening_datasets() -> None:
    cohen = _parse_file("screening-labelled/Cohen_2006_ProtonPumpInhibitors.csv")[0]
    assert cohen.pmid == "10024259"
    assert cohen.authors[1] == Author("Müller-Lissner", "S")
    assert cohen.keywords[:2] == ["Adult", "Aged"]  # MeSH terms in 'keywords'

    bannach = _parse_file("screening-labelled/Bannach-Brown_2019.csv")
    herman = next(r for r in bannach if r.authors[:1] == [Author("Herman", "Z. S.")])
    assert herman.authors[1:] == [Author("Plech", "A."), Author("Bien", "E.")]


# --- Inline files -------------------------------------------------------------


def test_tsv_with_a_quoted_multi_line_cell() -> None:
    content = (
        "Title\tAbstract\tAuthors\tYear\tDOI\n"
        'First\t"Line one\nline two"\tSmith, J; Doe, A\t2019\thttps://doi.org/10.1000/X\n'
        "Second\t\tRoe R\t2020\t\n"
    )

    assert read_header(_text(content)) == (
        ["Title", "Abstract", "Authors", "Year", "DOI"],
        "\t",
    )
    first, second = _records(content)

    assert first.abstract == "Line one line two"
    assert first.authors == [Author("Smith", "J"), Author("Doe", "A")]
    assert (first.year, first.doi) == (2019, "10.1000/x")
    assert second.authors == [Author("Roe", "R")]
    assert json.loads(first.raw)["Abstract"] == "Line one\nline two"


def test_semicolon_csv() -> None:
    content = (
        "Titel;Article Title;Authors;Publication Year;Keywords;Pages\n"
        '1;"Dosing, timing; and the rest";"Müller, K.; Ødegård, P.";2021;a; b;12–19\n'
    )
    # 'Keywords' holds 'a' and the next cell ' b' would be one too many cells...
    with pytest.raises(ParseError) as caught:
        _records(content)
    assert (caught.value.record, caught.value.line) == (1, 2)

    content = content.replace("a; b", '"a; b"')
    assert read_header(_text(content))[1] == ";"
    (record,) = _records(content)

    assert record.title == "Dosing, timing; and the rest"
    assert record.authors == [Author("Müller", "K."), Author("Ødegård", "P.")]
    assert (record.year, record.keywords, record.pages) == (2021, ["a", "b"], "12-19")


def test_generic_layout_by_synonyms() -> None:
    header = ["Record ID", "TI", "AB", "AU", "PY", "SO", "PMID", "MeSH Terms", "Type"]
    mapping = detect_mapping(header)

    assert mapping is not None
    assert mapping.layout == "generic"
    assert (mapping.title, mapping.abstract, mapping.authors) == (
        ("TI",),
        ("AB",),
        ("AU",),
    )
    assert (mapping.year, mapping.journal, mapping.pmid) == (
        ("PY",),
        ("SO",),
        ("PMID",),
    )
    assert (mapping.mesh_terms, mapping.publication_types) == (
        ("MeSH Terms",),
        ("Type",),
    )
    assert mapping.source_id == ("Record ID",)


def test_layouts_match_case_insensitively() -> None:
    header, _ = _header("scopus-csv/cff_baseline_scopus.csv")
    mapping = detect_mapping([name.upper() for name in header])

    assert mapping is not None
    assert mapping.layout == "scopus"
    assert mapping.authors == ("AUTHOR FULL NAMES", "AUTHORS")


def test_a_mapping_matches_columns_case_insensitively() -> None:
    mapping = ColumnMapping(title=("TITLE",), year=("year",))

    (record,) = _records("Title,Year\nA,1999\n", mapping)

    assert (record.title, record.year) == ("A", 1999)


def test_unknown_layout() -> None:
    with pytest.raises(ParseError) as caught:
        _records("Name,Colour,Count\nA,red,3\n")

    assert caught.value.message == (
        "Unknown CSV layout: no title column among: Name, Colour, Count. "
        "Map the columns by hand."
    )


def test_mapped_title_column_missing() -> None:
    mapping = ColumnMapping(title=("Headline",), year=("Year",))

    with pytest.raises(ParseError, match="Headline"):
        _records("Title,Year\nA,1999\n", mapping)


@pytest.mark.parametrize("content", ["", "\n\n", "\ufeff"])
def test_empty_file(content: str) -> None:
    with pytest.raises(ParseError, match="empty"):
        _records(content)
    with pytest.raises(ParseError, match="empty"):
        read_header(_text(content))


def test_header_only_and_blank_rows() -> None:
    assert _records("Title,Year\n") == []

    records = _records("Title,Year\n\nA,2001\n,\nB,2002\n")

    assert [r.title for r in records] == ["A", "B"]


def test_short_row_is_read() -> None:
    (record,) = _records("Title,Year,DOI\nA\n")

    assert (record.title, record.year, record.doi) == ("A", None, "")
    assert json.loads(record.raw) == {"Title": "A", "Year": "", "DOI": ""}


def test_row_with_too_many_cells() -> None:
    content = 'Title,Abstract\nA,"one\ntwo"\nB,x,surplus\n'

    with pytest.raises(ParseError) as caught:
        _records(content)

    assert (caught.value.record, caught.value.line) == (2, 4)
    assert "3 cells but the header has 2 columns" in str(caught.value)
    # An empty surplus cell (a trailing comma) is fine.
    assert len(_records("Title,Abstract\nA,x,\n")) == 1


def test_unterminated_quote() -> None:
    with pytest.raises(ParseError) as caught:
        _records('Title,Year\nA,2001\n"B,2002\nC,2003\n')

    assert (caught.value.record, caught.value.line) == (2, 3)


def test_huge_cell() -> None:
    abstract = "word " * 100_000  # beyond csv's default 128 KiB field limit

    (record,) = _records(f'Title,Abstract\nA,"{abstract}"\n')

    assert len(record.abstract) == len(abstract) - 1


def test_parse_is_streamed() -> None:
    def lines() -> Iterator[str]:
        yield "Title,Year\n"
        for number in range(10**9):
            yield f"T{number},2000\n"

    class Endless:
        """A text stream that never ends: parse() must not read it all."""

        def __init__(self) -> None:
            self.lines = lines()

        def read(self, size: int = -1) -> str:
            return "".join(next(self.lines) for _ in range(100))

        def readline(self) -> str:
            return next(self.lines)

        def __iter__(self) -> Iterator[str]:
            return self.lines

    records = parse(cast(TextIO, Endless()))

    assert [next(records).title for _ in range(3)] == ["T0", "T1", "T2"]


# --- The mapping itself -------------------------------------------------------


def test_mapping_round_trip() -> None:
    header, _ = _header("wos-tab/scientopy_wos_2026_04_02_4071.txt")
    mapping = detect_mapping(header)
    assert mapping is not None

    stored = json.loads(json.dumps(mapping.to_dict()))

    assert stored["layout"] == "wos_tab"
    assert stored["authors"] == ["AF", "AU", "BF", "BA", "CA"]
    assert stored["author_separator"] == "semicolon"
    assert "mesh_terms" not in stored
    assert ColumnMapping.from_dict(stored) == mapping


def test_mapping_from_dict_accepts_single_names_and_rejects_nonsense() -> None:
    mapping = ColumnMapping.from_dict({"title": "Paper", "keywords": ["K1", "K2"]})
    assert (mapping.layout, mapping.title, mapping.keywords) == (
        "custom",
        ("Paper",),
        ("K1", "K2"),
    )
    assert mapping.used_columns() == ["Paper", "K1", "K2"]

    with pytest.raises(ValueError, match="Unknown column-mapping keys: colour"):
        ColumnMapping.from_dict({"title": "T", "colour": "red"})
    with pytest.raises(ValueError, match="title"):
        ColumnMapping.from_dict({"title": 3})
    with pytest.raises(ValueError, match="author separator"):
        ColumnMapping.from_dict({"title": "T", "author_separator": "pipe"})


def test_author_separator_from_the_mapping() -> None:
    mapping = ColumnMapping(title=("T",), authors=("A",), author_separator="comma")

    (record,) = _records('T,A\nX,"Smith J, Doe A"\n', mapping)

    assert record.authors == [Author("Smith", "J"), Author("Doe", "A")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Family, G.; Family2, H.", [("Family", "G."), ("Family2", "H.")]),
        ("Smith J, Doe A.", [("Smith", "J"), ("Doe", "A")]),
        ("Smith, John", [("Smith", "John")]),
        ("Smith, J., Doe, A.", [("Smith", "J."), ("Doe", "A.")]),
        ("P. Kogge, J. Shalf", [("Kogge", "P."), ("Shalf", "J.")]),
        ("Zuber, J and Le Quintrec, M", [("Zuber", "J"), ("Le Quintrec", "M")]),
        (
            "R. L. Whistler and W. C. Lake",
            [("Whistler", "R. L."), ("Lake", "W. C.")],
        ),
        (
            "van der Berg, Jan Peter and Smith, J",
            [("van der Berg", "Jan Peter"), ("Smith", "J")],
        ),
        ("E. Braunwald, J. Ross, Jr.", [("Braunwald", "E."), ("Ross", "J., Jr.")]),
        (
            "Van Der Veken P.Vanden Berghe W.Crean D.O'Reilly M. E.",
            [
                ("Van Der Veken", "P."),
                ("Vanden Berghe", "W."),
                ("Crean", "D."),
                ("O'Reilly", "M. E."),
            ],
        ),
        ("de Jorge, E. G.", [("de Jorge", "E. G.")]),
        ("[No author name available]", []),
        ("[Anonymous]", []),
        ("", []),
    ],
)
def test_split_authors(value: str, expected: list[tuple[str, str]]) -> None:
    assert split_authors(value) == [Author(family, given) for family, given in expected]


# --- Excel ------------------------------------------------------------------


def _workbook(rows: Sequence[Sequence[object]]) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    return data


def test_xlsx_with_a_mapping_by_hand_remembered() -> None:
    data = _workbook(
        [
            [None, None],  # a leading empty row
            ["Paper", "Writers", "Published", "PubMed", "Tags", None],
            ["First paper", "Smith, J; Doe, A", 2019, 31234567, "x; y", "a note"],
            [None, None, None],
            ["Second paper", "Roe R", "2020-05-01", None, None],
        ]
    )
    header, sheet = tabular_excel.read_header(data)
    assert (header, sheet) == (
        ["Paper", "Writers", "Published", "PubMed", "Tags"],
        "Export",
    )
    # No column is recognisably a title: the person maps them by hand, once.
    assert tabular_excel.detect_mapping(header) is None
    with pytest.raises(ParseError, match="no title column among: Paper, Writers"):
        list(tabular_excel.parse(data))
    mapping = ColumnMapping(
        title=("Paper",),
        authors=("Writers",),
        year=("Published",),
        pmid=("PubMed",),
        keywords=("Tags",),
    )
    remembered = tabular_excel.ColumnMapping.from_dict(
        json.loads(json.dumps(mapping.to_dict()))
    )
    assert remembered == mapping

    data.seek(0)
    first, second = tabular_excel.parse(data, remembered)

    assert first.title == "First paper"
    assert first.authors == [Author("Smith", "J"), Author("Doe", "A")]
    assert (first.year, first.pmid, first.keywords) == (2019, "31234567", ["x", "y"])
    assert json.loads(first.raw)["PubMed"] == "31234567"  # not '31234567.0'
    assert (second.title, second.year, second.pmid) == ("Second paper", 2020, "")


def test_xlsx_known_layout_detected() -> None:
    header = ["key", "title", "year", "authors", "doi", "pubmed_id"]
    data = _workbook(
        [
            header,
            ["rayyan-1", "A title", 2001, "Doe, J. and Roe, R.", "10.1000/ABC", 123.0],
        ]
    )

    (record,) = tabular_excel.parse(data)

    assert record.source_id == "rayyan-1"
    assert record.authors == [Author("Doe", "J."), Author("Roe", "R.")]
    assert (record.year, record.doi, record.pmid) == (2001, "10.1000/abc", "123")


def test_xlsx_errors() -> None:
    with pytest.raises(ParseError, match=r"not an Excel \.xlsx workbook"):
        list(tabular_excel.parse(io.BytesIO(b"PK not really a zip")))
    with pytest.raises(ParseError, match="empty"):
        list(tabular_excel.parse(_workbook([])))
    with pytest.raises(ParseError, match="Unknown CSV layout"):
        list(tabular_excel.parse(_workbook([["Name", "Count"], ["A", 1]])))


def test_xlsx_fixture_round_trip(tmp_path: Path) -> None:
    """A fixture saved as .xlsx reads like the CSV."""
    name = "other-csv/cff_baseline_rayyan.csv"
    with (FIXTURES / name).open("rb") as binary:
        rows = list(csv.reader(open_text(binary)))
    path = tmp_path / "rayyan.xlsx"
    path.write_bytes(_workbook([list(row) for row in rows]).getvalue())

    with path.open("rb") as binary:
        from_excel = list(tabular_excel.parse(binary))

    from_csv = _parse_file(name)
    assert [r.title for r in from_excel] == [r.title for r in from_csv]
    assert [r.authors for r in from_excel] == [r.authors for r in from_csv]
    assert [r.doi for r in from_excel] == [r.doi for r in from_csv]


def test_registry_points_at_these_modules() -> None:
    assert FORMATS["csv"].module == "tabular" and not FORMATS["csv"].binary
    assert FORMATS["excel"].module == "tabular_excel" and FORMATS["excel"].binary
    assert tabular.parse is parse


def test_surplus_funding_text_cells_with_trailing_commas() -> None:
    header = "Authors,Title,Year,Source title,Funding Text 1,ISSN,EID,\n"
    rows = (
        '"Doe J.","One",2020,"J",,"12345678","2-s2.0-1",\n'
        '"Doe J.","Two",2021,"J","fund 1","fund 2","87654321","2-s2.0-2",\n'
    )

    one, two = _records(header + rows)

    assert (one.issn, one.source_id) == ("1234-5678", "2-s2.0-1")
    assert (two.issn, two.source_id) == ("8765-4321", "2-s2.0-2")
