"""BibTeX parser: every fixture, LaTeX and braces, Scopus header and fields, month
macros, chunked reading, broken entries. Small entries written here (marked) cover
what the fixtures lack (LaTeX accents, @string macros, corporate authors)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from searches.parsers import bibtex
from searches.parsers.base import Author, ParsedRecord, ParseError, open_text
from tests.searches.conftest import FIXTURES, manifest_counts

FOLDER = FIXTURES / "bibtex"
FILES = sorted(FOLDER.glob("*.bib"))
SCOPUS = FOLDER / "pybibx_scopus_m.bib"
ZOTERO = FOLDER / "asysd_zotero_export.bib"


def parse_file(path: Path) -> list[ParsedRecord]:
    with path.open("rb") as handle:
        return list(bibtex.parse(open_text(handle)))


def parse_text(text: str) -> list[ParsedRecord]:
    return list(bibtex.parse(io.StringIO(text)))


def test_every_fixture_is_in_the_manifest() -> None:
    assert FILES, f"no fixtures in {FOLDER}"
    for path in FILES:
        assert f"bibtex/{path.name}" in manifest_counts()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_counts_and_core_fields(path: Path) -> None:
    records = parse_file(path)
    assert len(records) == int(manifest_counts()[f"bibtex/{path.name}"])
    with_title_and_year = [r for r in records if r.title and r.year]
    assert len(with_title_and_year) >= 0.99 * len(records)
    for record in records:
        assert record.raw.startswith("@") and record.raw.endswith("}")
        assert record.authors
        assert not any(c in record.title for c in "{}\\")
        if "\tdoi = {" in record.raw:
            assert record.doi.startswith("10.")
        if "\tpmid = {" in record.raw:
            assert record.pmid.isdigit()


# --- Scopus -----------------------------------------------------------------------


def test_scopus_header_lines_and_bom_are_skipped() -> None:
    assert SCOPUS.read_bytes().startswith(b"\xef\xbb\xbfScopus\nEXPORT DATE:")
    first = parse_file(SCOPUS)[0]
    assert first.title == (
        "Base-criterion on multi-criteria decision-making method and its applications"
    )
    assert first.raw.startswith("@ARTICLE{Haseli202079,")


def test_scopus_fields() -> None:
    records = parse_file(SCOPUS)
    first = records[0]
    assert first.authors == [
        Author("Haseli", "Gholamreza"),
        Author("Sheikh", "Reza"),
        Author("Sana", "Shib Sankar"),
    ]
    assert first.year == 2020
    assert first.journal == (
        "International Journal of Management Science and Engineering Management"
    )
    assert (first.volume, first.issue, first.pages) == ("15", "2", "79-88")  # en dash
    assert first.doi == "10.1080/17509653.2019.1633964"
    assert first.issn == "1750-9653"  # Scopus writes '17509653'
    assert first.keywords[:2] == ["consistency ratio", "incomplete data"]
    assert first.publication_types == ["Article"]
    assert first.language == "English"
    assert first.source_id == "2-s2.0-85083087417"  # the EID, from the URL
    assert "Cited by" not in first.abstract
    garner = next(r for r in records if r.pmid)
    assert garner.pmid == "19299883"
    assert garner.authors[1] == Author("Engelhard Jr.", "George")
    conferences = [r for r in records if r.raw.startswith("@CONFERENCE")]
    assert len(conferences) == 2
    assert conferences[0].journal == "IEEE International Conference on Fuzzy Systems"


# --- Zotero -----------------------------------------------------------------------


def test_zotero_braces_month_macros_and_escapes() -> None:
    records = parse_file(ZOTERO)
    first = records[0]
    assert "month = aug," in first.raw
    assert first.title == (
        "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker"
        " Spaniel dogs"
    )
    assert first.year == 1999
    assert first.authors[0] == Author("Larsen", "LJ")
    assert first.pages == "134-137"  # '134--137'
    assert first.keywords[:2] == ["blood supply", "Cocker Spaniels"]
    assert "Times Cited" not in first.abstract  # annote is not the abstract
    by_title = {r.title: r for r in records}
    assert "New DNA tests for Cavalier King Charles spaniels" in by_title
    assert by_title["New DNA tests for Cavalier King Charles spaniels"].authors == [
        Author("[Anonymous]")
    ]
    kaimio = next(r for r in records if r.raw.startswith("@article{kaimio_survey_2017"))
    assert "(149 out of 468, 31.8%, [95% confidence" in kaimio.abstract  # '31.8\%'
    assert "early onset (< 1 year)" in kaimio.abstract  # '{\textless} 1 year'
    poucke = next(r for r in records if "van_poucke_c126c" in r.raw)
    assert poucke.title.startswith("The c.126C > A(p.(Cys42Ter)) SLC7A10 nonsense")


def test_chunked_reading_gives_the_same_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    whole = parse_file(ZOTERO)
    monkeypatch.setattr(bibtex, "CHUNK_CHARS", 2_000)  # hundreds of chunks
    assert parse_file(ZOTERO) == whole


# --- Entries written for these tests ---------------------------------------------


def test_latex_accents_and_protected_capitals() -> None:
    (record,) = parse_text(
        r"""@Article{m1,
  Author = {M{\"u}ller, J{\"o}rg and Garc{\'\i}a-L{\'o}pez, Fran{\c{c}}ois and
            van der Berg, Jan and {World Health Organization} and others},
  Title = {{DNA} repair in {\em E. coli}: a {M}onte {C}arlo study of $\alpha$-helices},
  Journal = {Journal f{\"u}r Biologie},
  Year = 2015,
  Pages = {1--10},
  Keywords = {repair; {DNA}},
}"""
    )
    assert record.authors == [
        Author("Müller", "Jörg"),
        Author("García-López", "François"),
        Author("van der Berg", "Jan"),
        Author("World Health Organization"),
    ]
    assert record.title == "DNA repair in E. coli: a Monte Carlo study of α-helices"
    assert record.journal == "Journal für Biologie"
    assert record.year == 2015
    assert record.pages == "1-10"
    assert record.keywords == ["repair", "DNA"]


def test_month_macros_and_string_macros_across_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bibtex, "CHUNK_CHARS", 10)  # every block in its own chunk
    records = parse_text(
        '@string{jvim = "Journal of Veterinary Internal Medicine"}\n'
        "@comment{Exported by hand}\n"
        '@preamble{"\\newcommand{\\noop}[1]{}"}\n'
        "@article{a, title = {First}, journal = jvim, month = aug, year = 2001}\n"
        "@article{b, title = {Second}, journal = JVIM, month = {dec}, year = {2002}}\n"
        "@article{a, title = {Same key again}, month = 3, year = {2003}}\n"
    )
    assert [r.title for r in records] == ["First", "Second", "Same key again"]
    assert [r.journal for r in records[:2]] == [
        "Journal of Veterinary Internal Medicine"
    ] * 2
    assert [r.year for r in records] == [2001, 2002, 2003]


def test_repeated_fields_biblatex_names_and_identifiers() -> None:
    (record,) = parse_text(
        "@online{x,\n  title = {},\n  title = {Kept},\n  date = {2021-05-04},\n"
        "  journaltitle = {Lancet},\n  eprint = {33000001},\n  eprinttype = {pubmed},\n"
        "  pmcid = {PMC7000001},\n  doi = {https://doi.org/10.1016/S0140\\_6736},\n"
        "  issn = {0140-6736, 1474-547X},\n}\n"
    )
    assert (record.title, record.year, record.journal) == ("Kept", 2021, "Lancet")
    assert (record.pmid, record.pmcid) == ("33000001", "PMC7000001")
    assert record.doi == "10.1016/s0140_6736"
    assert record.issn == "0140-6736"
    assert record.publication_types == ["online"]


# --- Bad input --------------------------------------------------------------------


def test_broken_entry_in_the_middle_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = ZOTERO.read_text(encoding="utf-8").split("\n")
    starts = [n for n, line in enumerate(lines) if line.startswith("@")]
    broken = starts[499]  # the 500th entry: its title loses a closing brace
    lines[broken + 1] = lines[broken + 1].replace("title = {", "title = {{", 1)
    text = "\n".join(lines)
    for chunk in (bibtex.CHUNK_CHARS, 5_000):
        monkeypatch.setattr(bibtex, "CHUNK_CHARS", chunk)
        read: list[ParsedRecord] = []
        with pytest.raises(ParseError) as caught:
            read.extend(bibtex.parse(io.StringIO(text)))
        assert len(read) == 499
        assert (caught.value.record, caught.value.line) == (500, broken + 1)
        assert "@article{rand_portosystemic_1988" in caught.value.message


def test_entry_cut_off_at_the_end() -> None:
    with pytest.raises(ParseError) as caught:
        parse_text("@article{a, title={X}, year=2000}\n\n@article{b, title = {Y},\n")
    assert (caught.value.record, caught.value.line) == (2, 3)


def test_empty_file() -> None:
    for text in ("", "\n  \n", "\ufeff"):
        with pytest.raises(ParseError, match="empty"):
            parse_text(text)


def test_file_without_entries() -> None:
    ris = FIXTURES / "ris" / "cff_baseline_embase.ris"
    with ris.open("rb") as handle, pytest.raises(ParseError, match="No BibTeX"):
        list(bibtex.parse(open_text(handle)))
    with pytest.raises(ParseError, match="No BibTeX entries"):
        parse_text("@comment{only a comment}\n@string{a = {b}}\n")


def test_reads_lazily() -> None:
    """Records come out while the stream is still being read."""
    text = ZOTERO.read_text(encoding="utf-8")
    stream = io.StringIO(text)
    records = bibtex.parse(stream)
    next(records)
    assert stream.tell() < len(text)
