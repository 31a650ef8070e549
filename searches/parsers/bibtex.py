"""BibTeX (Zotero, JabRef, Mendeley, Scopus, Web of Science, Google Scholar ...).

Splitting and field syntax are bibtexparser 2's: `parse_string` with an empty parse
stack splits a text into blocks, then its `ResolveStringReferencesMiddleware` and
`RemoveEnclosingMiddleware` resolve @string macros and strip the outer braces or
quotes. Names are split with its `split_multiple_persons_names` and
`parse_single_name_into_parts` (the BibTeX rules: 'von Last, Jr, First', braces
protect corporate names), then LaTeX is decoded with pylatexenc, as bibtexparser's
LatexDecodingMiddleware does: {\\"u} -> ü, {DNA} -> DNA, {\\textless} -> <, \\% -> %.
pylatexenc is slow (about 1 ms a field), so values whose only LaTeX is braces,
ties and escaped specials (most of them) are decoded by a few replacements instead;
URLs and DOIs are never LaTeX-decoded (a '%2f' in a URL is not a comment).

Streaming: bibtexparser parses a whole string, so the text is cut into chunks of
about CHUNK_CHARS characters, always just before a line that starts a block
('@type{' at the start of a line, the same test bibtexparser's splitter uses to
abort an unclosed block, so cutting there never changes how a file splits). Chunks
are parsed one after another; @string macros carry over from chunk to chunk.
Memory therefore stays at about one chunk, whatever the file's size.

Errors: the product imports all or nothing, so an entry bibtexparser cannot split
(a missing brace, quote or comma) raises ParseError naming the entry's number and
line, rather than being skipped. Records before it have already been yielded; the
caller discards them. Entries with a duplicate citation key or a repeated field
are not errors: they are kept (the first non-empty value of a field wins).
Header lines before the first entry (Scopus: 'Scopus', 'EXPORT DATE: ...') and any
text between entries are comments, as BibTeX treats them. Month macros (`month =
aug`) are read without error; a ParsedRecord has no month, so months are dropped.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import TextIO

from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
)
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)
from pylatexenc.latex2text import (  # type: ignore[import-untyped]
    LatexNodes2Text,
    MacroTextSpec,
    get_default_latex_context_db,
)

from searches.parsers.base import (
    Author,
    ParsedRecord,
    ParseError,
    clean_text,
    normalise_doi,
    normalise_pmcid,
    normalise_pmid,
    parse_year,
    split_author,
)

CHUNK_CHARS = 1 << 18  # about 256 KB of text per bibtexparser call

# A line that starts a block: bibtexparser's own test (`_BLOCK_START`, at line start).
_BLOCK_START = re.compile(r"[ \t]*@\w*[ \t]*[{(]")
_LATEX_SIGNS = re.compile(r"[\\{}$~%]")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")  # a LaTeX comment would eat the line
_PAGE_DASHES = re.compile(r"\s*(?:-+|–|—)\s*")
_ISSN = re.compile(r"\b(\d{4})-?(\d{3}[\dXx])\b")
_SCOPUS_EID = re.compile(r"eid=(2-s2\.0-\d+)")


_SYMBOLS = {
    "textless": "<",
    "textgreater": ">",
    "textbar": "|",
    "textquotedbl": '"',
    "textunderscore": "_",
    "textasciicircum": "^",
    "textperiodcentered": "·",
}


def _decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    context.add_context_category(
        "bibtex-import",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            # Text-mode symbols Zotero writes that pylatexenc drops or mistranslates.
            *(
                MacroTextSpec(name, simplify_repl=text)
                for name, text in _SYMBOLS.items()
            ),
        ],
    )
    return LatexNodes2Text(
        latex_context=context, keep_braced_groups=False, math_mode="text"
    )


_DECODER = _decoder()


_NAMES = "|".join(_SYMBOLS)
_SYMBOL = re.compile(rf"\{{\\({_NAMES})\}}|\\({_NAMES})(?:\{{\}}|\s+|(?![A-Za-z]))")
_SIMPLE_ESCAPE = re.compile(r"\\([%&_#$])")
# LaTeX beyond braces, ties and escaped specials: needs pylatexenc (slow).
_COMMAND = re.compile(r"\\(?![%&_#$])|(?<!\\)\$")


def _latex(value: str) -> str:
    """LaTeX source -> plain text, white space collapsed. Values with no command but
    the escapes \\% \\& \\_ \\# \\$ (most of them) take a fast path."""
    if not _LATEX_SIGNS.search(value):
        return clean_text(value)
    value = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(1) or m.group(2)], value)
    if not _COMMAND.search(value):
        value = _SIMPLE_ESCAPE.sub(r"\1", value.replace("~", " "))
        return clean_text(value.replace("{", "").replace("}", ""))
    value = _UNESCAPED_PERCENT.sub(r"\\%", value)
    try:
        text = str(_DECODER.latex_to_text(value))
    except Exception:  # pylatexenc is tolerant; never lose a record over markup
        text = value.replace("{", "").replace("}", "")
    return clean_text(text)


def _unescape(value: str) -> str:
    """For identifiers and URLs: drop braces and backslash escapes only."""
    return clean_text(
        re.sub(r"\\([_%&#$])", r"\1", value).replace("{", "").replace("}", "")
    )


def _authors(value: str) -> list[Author]:
    authors = []
    for name in split_multiple_persons_names(value):
        if name.strip().lower() == "others":
            continue
        try:
            parts = parse_single_name_into_parts(name, strict=False)
        except Exception:
            authors.append(split_author(_latex(name)))
            continue
        family = _latex(" ".join([*parts.von, *parts.last]))
        given = _latex(" ".join([*parts.first, *parts.jr]))
        if family:
            authors.append(Author(family, given))
        elif given:
            authors.append(Author(given))
    return authors


def _split_keywords(value: str) -> list[str]:
    separator = ";" if ";" in value else ","
    return [k for k in (_latex(part) for part in value.split(separator)) if k]


def _issn(value: str) -> str:
    match = _ISSN.search(value)
    if not match:
        return clean_text(value)
    return f"{match.group(1)}-{match.group(2).upper()}"


def _pages(value: str) -> str:
    return _PAGE_DASHES.sub("-", _latex(value.replace("--", "-"))).strip("-")


def _record(entry: Entry) -> ParsedRecord:
    fields: dict[str, str] = {}
    keywords: list[str] = []
    for field in entry.fields:
        key = field.key.strip().lower()
        value = str(field.value).strip()
        if not value:
            continue
        fields.setdefault(key, value)
        if key in ("keywords", "keyword", "author_keywords"):
            keywords.extend(k for k in _split_keywords(value) if k not in keywords)

    def get(*keys: str) -> str:
        for key in keys:
            if fields.get(key):
                return fields[key]
        return ""

    eprint_type = get("eprinttype", "archiveprefix").lower()
    url = _unescape(get("url"))
    doi = normalise_doi(_unescape(get("doi")))
    if not doi and "doi.org/" in url:
        doi = normalise_doi(url)
    pmid = get("pmid")
    if not pmid and eprint_type in ("pubmed", "pmid"):
        pmid = get("eprint")
    pmcid = get("pmcid")
    if not pmcid and eprint_type in ("pmc", "pmcid"):
        pmcid = get("eprint")
    eid = _SCOPUS_EID.search(url)
    publication_type = _latex(get("type")) or entry.entry_type.lower()
    return ParsedRecord(
        title=_latex(get("title")),
        abstract=_latex(get("abstract")),
        authors=_authors(get("author")),
        year=parse_year(get("year", "date")),
        journal=_latex(
            get("journal", "journaltitle", "booktitle", "abbrev_source_title")
        ),
        volume=_latex(get("volume")),
        issue=_latex(get("number", "issue")),
        pages=_pages(get("pages")),
        doi=doi,
        pmid=normalise_pmid(pmid),
        pmcid=normalise_pmcid(pmcid),
        issn=_issn(get("issn")),
        keywords=keywords,
        publication_types=[publication_type] if publication_type else [],
        language=_latex(get("language", "langid")),
        url=url,
        source_id=eid.group(1) if eid else _unescape(get("eid", "unique-id")),
        raw=entry.raw or "",
    )


def _chunks(stream: TextIO) -> Iterator[tuple[int, str]]:
    """(number of the chunk's first line, text), cut just before block starts."""
    lines: list[str] = []
    size = 0
    first_line = 1
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.lstrip("\ufeff")
        if size >= CHUNK_CHARS and _BLOCK_START.match(line):
            yield first_line, "".join(lines)
            lines, size, first_line = [], 0, number
        lines.append(line)
        size += len(line)
    if lines:
        yield first_line, "".join(lines)


_ENTRY_HEAD = re.compile(r"@\w+\s*[{(]\s*[^,\s]*")


def _describe(block: Block) -> str:
    """' (@article{smith2020)' for a message, from the block's text."""
    match = _ENTRY_HEAD.match((block.raw or "").lstrip())
    return f" ({match.group(0)[:80]})" if match else ""


def parse(stream: TextIO) -> Iterator[ParsedRecord]:
    """Records of a BibTeX file, one at a time (see the module's docstring)."""
    strings: dict[str, String] = {}  # @string macros, as split (still enclosed)
    stack = [
        ResolveStringReferencesMiddleware(allow_inplace_modification=True),
        RemoveEnclosingMiddleware(allow_inplace_modification=True),
    ]
    entries_read = 0
    any_text = False
    for first_line, text in _chunks(stream):
        any_text = any_text or bool(text.strip())
        split = parse_string(text, parse_stack=[])
        ordered: list[Block] = []  # entries and failures, in file order
        entries: list[Entry] = []
        for block in split.blocks:
            if isinstance(block, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock):
                block = block.ignore_error_block or block
            if isinstance(block, Entry):
                block.key = str(len(entries))  # unique: duplicate keys are kept
                entries.append(block)
                ordered.append(block)
            elif isinstance(block, String):
                strings[block.key.lower()] = copy.deepcopy(block)
            elif isinstance(block, ParsingFailedBlock):
                ordered.append(block)
        blocks: list[Block] = [copy.deepcopy(s) for s in strings.values()]
        blocks.extend(entries)
        library = Library(blocks, fail_on_duplicate_key=False)
        for middleware in stack:
            library = middleware.transform(library)
        transformed = library.entries_dict  # by the unique keys given above
        for block in ordered:
            if isinstance(block, ParsingFailedBlock):
                line = first_line + (block.start_line or 0)
                raise ParseError(
                    f"BibTeX entry {entries_read + 1}{_describe(block)}, starting at "
                    f"line {line}, is incomplete or malformed: a closing brace, a "
                    "quote or a comma is probably missing.",
                    record=entries_read + 1,
                    line=line,
                )
            if isinstance(block, Entry):
                entries_read += 1
                yield _record(transformed[block.key])
    if entries_read == 0:
        if not any_text:
            raise ParseError("The file is empty.")
        raise ParseError(
            "No BibTeX entries (such as @article{...}) were found in this file. "
            "Check that you chose the right format for it."
        )
