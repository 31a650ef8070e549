"""The normalisers on inputs real exports produce."""

from __future__ import annotations

import pytest

from searches.dedup.normalise import (
    fold,
    journals_match,
    normalise_doi,
    normalise_family,
    normalise_journal,
    normalise_pages,
    normalise_pmid,
    normalise_title,
    notice_kind,
    title_numbers,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://doi.org/10.1056/NEJMoa1208981", "10.1056/nejmoa1208981"),
        ("http://dx.doi.org/10.1002/dmrr.2604", "10.1002/dmrr.2604"),
        ("doi:10.1000/ABC.", "10.1000/abc"),
        ("10.1000/abc [doi]", "10.1000/abc"),
        ("https://doi.org/10.1002%2Fdmrr.2604", "10.1002/dmrr.2604"),
        ("10.1000/a;10.2000/b", "10.1000/a"),
        ("not a doi", ""),
        ("", ""),
    ],
)
def test_doi_is_bare_and_lower_case(raw: str, expected: str) -> None:
    assert normalise_doi(raw) == expected
    assert normalise_doi(normalise_doi(raw)) == normalise_doi(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PMID: 23738544 [Indexed for MEDLINE]", "23738544"),
        ("https://pubmed.ncbi.nlm.nih.gov/23738544/", "23738544"),
        ("0023738544", "23738544"),
        ("none", ""),
    ],
)
def test_pmid_is_digits(raw: str, expected: str) -> None:
    assert normalise_pmid(raw) == expected


def test_title_folds_case_punctuation_markup_and_diacritics() -> None:
    variants = [
        "Effect of TNF-α on <i>in vitro</i> tumour growth.",
        "EFFECT OF TNF-ALPHA ON IN VITRO TUMOR GROWTH",
        "Effect of TNF-&alpha; on in vitro tumour growth [Review]",
        "Effect of TNF-{\\alpha} on \\textit{in vitro} tumour growth",
    ]
    assert len({normalise_title(v) for v in variants}) == 1
    assert fold("Müller–Łukasiewicz Æther") == "muller lukasiewicz aether"
    assert fold("H<sub>2</sub>O") == "h2o"


def test_title_drops_database_notes() -> None:
    plain = normalise_title("Severe deficiency of ADAMTS 13 activity in children")
    assert (
        normalise_title(
            "Severe deficiency of ADAMTS 13 activity in children.[Erratum appears in "
            "J Pediatr. 2003 Jun"
        )
        == plain
    )
    assert (
        normalise_title(
            "[Severe deficiency of ADAMTS 13 activity in children]. [Review] [16 refs] "
            "[Romanian]"
        )
        == plain
    )


def test_title_numbers_agree_however_spaced() -> None:
    assert title_numbers(normalise_title("ADAMTS13 in type II disease")) == {
        "13",
        "2",
    }
    assert title_numbers(normalise_title("ADAMTS 13 in type 2 disease")) == {"13", "2"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123-9", "123-129"),
        ("1234-56", "1234-1256"),
        ("pp. 2169–2181", "2169-2181"),
        ("e0123", "e123"),
        ("S12-S15", "s12-s15"),
        ("1238.e5", "1238"),
        ("945", "945"),
        ("", ""),
        ("n/a", ""),
    ],
)
def test_pages_expand_abbreviated_ranges(raw: str, expected: str) -> None:
    assert normalise_pages(raw) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Current Opinion in Rheumatology", "Curr Opin Rheumatol"),
        ("Nature Reviews Nephrology", "Nat. Rev. Nephrol."),
        ("Proceedings of the National Academy of Sciences", "Proc Natl Acad Sci"),
        ("Journal of Thrombosis and Haemostasis", "J Thromb Haemost"),
        ("The Lancet (London, England)", "Lancet"),
        (
            "Seminars in Thrombosis & Hemostasis",
            "Seminars in Thrombosis and Haemostasis",
        ),
        (
            "Pediatric Nephrology.Conference: 45th Annual Meeting",
            "Pediatr Nephrol",
        ),
    ],
)
def test_journal_abbreviations_match_full_names(a: str, b: str) -> None:
    assert journals_match(normalise_journal(a), normalise_journal(b))


def test_different_journals_do_not_match() -> None:
    assert not journals_match(
        normalise_journal("Journal of Pediatrics"),
        normalise_journal("Pediatric Nephrology"),
    )


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Erratum: Gain-of-function mutations in factor B", "erratum"),
        ("Correction to: Eculizumab in aHUS", "erratum"),
        (
            "Eculizumab for Atypical Hemolytic-Uremic Syndrome (vol 360, pg 542, 2009)",
            "erratum",
        ),
        (
            "Eculizumab for aHUS (New England J of Medicine (2009) 360 (542-544))",
            "erratum",
        ),
        ("Atypical HUS associated with streptococcus - Reply", "reply"),
        ("Comment on: eculizumab in aHUS", "comment"),
        ("Retraction notice to: a trial", "retraction"),
        ("Correction of hypoxaemia in neonates", ""),
        ("Response to treatment in aHUS", ""),
        ("Replication of a finding", ""),
    ],
)
def test_notices_are_recognised_by_their_title(title: str, kind: str) -> None:
    assert notice_kind(title, ()) == kind


def test_family_names_fold_particles_and_swaps() -> None:
    assert normalise_family("Le Quintrec", "M") == "lequintrec"
    assert normalise_family("Nürnberger", "J") == "nurnberger"
    assert normalise_family("J", "Zuber") == "zuber"
