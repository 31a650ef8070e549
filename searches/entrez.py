"""PubMed through NCBI's E-utilities, with Biopython building the requests.

Pure Python and Biopython, no Django: the caller passes the configuration in
(`EntrezConfig(email, tool, api_key)`, from settings.NCBI_EMAIL/NCBI_TOOL/NCBI_API_KEY).

    client = EntrezClient(EntrezConfig(email=..., tool=..., api_key=...))
    client.count(term)              -> SearchCount   the search form's preview (esearch)
    client.search(term)             -> SearchResult  esearch with the history server
    client.fetch(result)            -> Iterator[FetchBatch]  efetch from the history
    client.plan(term)               -> SearchPlan    the search as history sets of at
                                                     most 9,999 records (see below)
    client.fetch_plan(plan)         -> Iterator[FetchBatch]  'run and import'
    client.pmids(term)              -> list[str]     every PMID the search matches
    client.new_pmids(term, known)   -> list[str]     living review: not imported yet
    client.fetch_pmids(pmids)       -> Iterator[FetchBatch]  efetch by PMID

Each `FetchBatch` carries the raw PubmedArticleSet XML (for the pubmed_xml parser) and
its place in the run (`done` of `total`) for progress reports.

Transport. Every request goes through a `Transport` (`get(utility, params) -> bytes`).
`BiopythonTransport` lets Biopython build the request (`Bio.Entrez._build_request`:
URL, parameter encoding, POST for long queries and for 200 ids or more) and opens it
with a timeout. It does not go through `Bio.Entrez._open`, which has no timeout (a
stalled connection would hang a worker forever), sleeps with the wall clock for its
own rate limit, retries 5xx itself, and reads configuration from module globals. So
no Biopython global is read or written here: email, tool and api_key are passed with
every request, and retrying and rate limiting happen once, in this module.
`ReplayTransport` answers from recorded responses, for tests.

Rate limit. NCBI allows 3 requests a second, 10 with an API key. `RateLimiter` keeps
a minimum interval between requests (10% wider than the limit, as Biopython found
necessary). Clients in one process share one limiter per API key (`shared_limiter`);
the site passes `core.ratelimit.SharedRateLimiter`, which every process (web and
workers) shares through the database; the 429 back-off remains a safety net.

Retries. HTTP 429 and 5xx, connection errors and time-outs, responses that are not
well-formed XML of the expected kind, and NCBI's in-band <ERROR> answers ('API rate
limit exceeded', 'Search Backend failed', ...) are retried with exponential back-off
and jitter (honouring Retry-After). Other 4xx and <ERROR>s that say the request itself
is wrong ('Empty term', 'Invalid ...') fail at once; a search with no hits is an
answer, not an error. After `RetryPolicy.max_tries` the client raises `EntrezError`.

PubMed returns at most 9,999 records of one search (esearch and the history server
alike). `plan()` therefore splits a larger search into Entrez-date windows
(`(term) AND 2020/01/01:2020/06/30[edat]`), halving the range until each window holds
at most 9,999 records; every PubMed record has an Entrez date, so the windows
partition the result.

Living review. A re-run fetches only what is new by PMID difference: `new_pmids(term,
known)` lists every PMID the search matches now (date-windowed the same way) minus
those already imported, then `fetch_pmids()` fetches them. A date cut-off (records
added since the last run) is not used because it misses old records that match only
now, e.g. once MEDLINE indexing has added their MeSH terms.

XML. Responses are read with xml.etree, which never fetches a DTD. `Bio.Entrez.read`
is not used: it validates against DTDs and downloads any DTD it does not bundle (and
refuses the http:// DTD address of older responses), so it can touch the network.
"""

from __future__ import annotations

import http.client
import io
import logging
import random
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import Message
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.error import HTTPError
from urllib.request import urlopen

from Bio import Entrez

logger = logging.getLogger(__name__)

EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# The most records PubMed's E-utilities return for one search ('start and count
# adjusted to 0, 9999'); esearch's retmax cannot go higher either.
PUBMED_LIMIT = 9_999
# The Entrez-date range that plan() and pmids() split: older than any PubMed record.
EARLIEST_ENTREZ_DATE = date(1700, 1, 1)
MAX_BATCH = 10_000  # efetch's own limit per request

T = TypeVar("T")


# --- Configuration and errors -------------------------------------------------------


@dataclass(frozen=True)
class EntrezConfig:
    """Who is asking. NCBI asks every client for a contact e-mail and a tool name."""

    email: str
    tool: str
    api_key: str | None = None

    def __post_init__(self) -> None:
        email = (self.email or "").strip()
        tool = (self.tool or "").strip()
        if "@" not in email:
            raise ValueError(
                "NCBI needs a contact e-mail address for E-utilities requests "
                f"(got {self.email!r})."
            )
        if not tool or any(char.isspace() for char in tool):
            raise ValueError(
                f"The NCBI tool name must be one word (got {self.tool!r})."
            )
        object.__setattr__(self, "email", email)
        object.__setattr__(self, "tool", tool)
        object.__setattr__(self, "api_key", (self.api_key or "").strip() or None)

    @property
    def requests_per_second(self) -> float:
        return 10.0 if self.api_key else 3.0

    def params(self) -> dict[str, str]:
        """The identification every request carries."""
        params = {"tool": self.tool, "email": self.email}
        if self.api_key:
            params["api_key"] = self.api_key
        return params

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        key = "'***'" if self.api_key else "None"
        return f"EntrezConfig(email={self.email!r}, tool={self.tool!r}, api_key={key})"


class EntrezError(Exception):
    """PubMed could not answer. `message` is fit to show to the person who searched.

    `retryable` says whether trying again later may help (NCBI down or overloaded)
    rather than the request being wrong; `status` is the last HTTP status, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        attempts: int = 1,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.attempts = attempts
        self.retryable = retryable


class _Transient(Exception):
    """A failed attempt worth repeating (internal to the retry loop)."""

    def __init__(self, reason: str, *, status: int | None = None, wait: float = 0.0):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.wait = wait  # at least this long before the next try (Retry-After)


# --- Transports ---------------------------------------------------------------------


class Transport(Protocol):
    def get(self, utility: str, params: dict[str, str]) -> bytes:
        """The body of `utility` ('esearch.fcgi', 'efetch.fcgi') called with `params`.

        Raises urllib.error.HTTPError for HTTP errors and OSError (URLError,
        TimeoutError, ...) or http.client.HTTPException when the connection fails.
        """
        ...


class BiopythonTransport:
    """Real HTTP: Biopython builds the request, urllib sends it with a timeout."""

    def __init__(self, *, timeout: float = 120.0, base_url: str = EUTILS_URL) -> None:
        self.timeout = timeout
        self.base_url = base_url

    def get(self, utility: str, params: dict[str, str]) -> bytes:
        # None for missing identification, so that Biopython's setdefault() cannot
        # fill it in from its module globals (it drops None values afterwards).
        values: dict[str, str | None] = {"tool": None, "email": None, "api_key": None}
        values.update(params)
        request = Entrez._build_request(self.base_url + utility, values)  # type: ignore[no-untyped-call]
        # The URL is always base_url (https://eutils.ncbi.nlm.nih.gov by default).
        with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return bytes(response.read())


Reply = bytes | BaseException | Callable[[dict[str, str]], bytes]


@dataclass
class _Route:
    utility: str
    replies: list[Reply]
    when: Callable[[dict[str, str]], bool] | None
    match: dict[str, str]
    served: int = 0

    def accepts(self, utility: str, params: dict[str, str]) -> bool:
        if utility != self.utility:
            return False
        if any(params.get(key) != value for key, value in self.match.items()):
            return False
        return self.when is None or self.when(params)


class ReplayTransport:
    """Answers from recorded responses and remembers every call, for tests.

        transport = ReplayTransport()
        transport.add("esearch.fcgi", http_error(429), FIXTURES / "esearch1.xml")
        transport.add("efetch.fcgi", page2, match={"retstart": "500"})

    A route serves its replies in order and then repeats the last one. A reply is
    bytes, a Path (read when added), an exception to raise, or a function of the
    request parameters returning bytes. The first route that accepts a call (same
    utility, every `match` item equal, `when(params)` true) answers it; a call no
    route accepts raises LookupError, which the client does not retry.
    """

    def __init__(self) -> None:
        self.routes: list[_Route] = []
        self.calls: list[tuple[str, dict[str, str]]] = []

    def add(
        self,
        utility: str,
        *replies: Reply | Path,
        when: Callable[[dict[str, str]], bool] | None = None,
        match: Mapping[str, str] | None = None,
    ) -> ReplayTransport:
        if not replies:
            raise ValueError("a route needs at least one reply")
        loaded = [_replayable(r) for r in replies]
        self.routes.append(_Route(utility, loaded, when, dict(match or {})))
        return self

    def get(self, utility: str, params: dict[str, str]) -> bytes:
        params = dict(params)
        self.calls.append((utility, params))
        for route in self.routes:
            if route.accepts(utility, params):
                reply = route.replies[min(route.served, len(route.replies) - 1)]
                route.served += 1
                if isinstance(reply, BaseException):
                    raise reply
                if isinstance(reply, bytes):
                    return reply
                return reply(params)
        raise LookupError(f"ReplayTransport has no reply for {utility} {params}")

    def params(self, utility: str) -> list[dict[str, str]]:
        """The parameters of every call made to `utility`, in order."""
        return [params for name, params in self.calls if name == utility]


def _replayable(reply: Reply | Path) -> Reply:
    if isinstance(reply, Path):
        return reply.read_bytes()
    if isinstance(reply, HTTPError):  # its body reads once: raise a fresh one each time
        error, body = reply, reply.read()

        def fresh(params: dict[str, str]) -> bytes:
            raise HTTPError(
                error.url, error.code, error.msg, error.headers, io.BytesIO(body)
            )

        return fresh
    return reply


def http_error(
    code: int,
    body: bytes = b"",
    *,
    headers: Mapping[str, str] | None = None,
    url: str = EUTILS_URL,
) -> HTTPError:
    """An HTTPError as urllib raises it, for ReplayTransport."""
    message = Message()
    for name, value in (headers or {}).items():
        message[name] = value
    reason = http.client.responses.get(code, "Error")
    return HTTPError(url, code, reason, message, io.BytesIO(body))


# --- Rate limiting and retries ------------------------------------------------------


class RateLimiter:
    """At most `per_second` requests a second: a minimum interval between requests.

    The interval is 10% wider than 1/per_second: requests spaced exactly 1/3 s apart
    still trip NCBI's limit now and then (Biopython found the same and waits 0.37 s).
    Thread-safe; `clock` and `sleep` are injectable so tests need not wait.
    """

    MARGIN = 1.1

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = self.MARGIN / per_second
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until a request may go; return how long that took."""
        with self._lock:
            now = self._clock()
            waited = 0.0
            if self._next is not None and self._next > now:
                waited = self._next - now
                self._sleep(waited)
                now = self._next
            self._next = now + self.interval
            return waited


class Limiter(Protocol):
    def wait(self) -> float:
        """Block until a request may go; return how long that took."""
        ...


_shared_limiters: dict[str, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(config: EntrezConfig) -> RateLimiter:
    """The process-wide limiter for this API key (or for key-less requests)."""
    key = config.api_key or ""
    with _shared_lock:
        if key not in _shared_limiters:
            _shared_limiters[key] = RateLimiter(config.requests_per_second)
        return _shared_limiters[key]


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_tries` attempts; before try n+1 wait about base_delay * 2**(n-1)
    (capped at max_delay), jittered down to half of that, and at least Retry-After
    (capped at max_delay) when NCBI sends one."""

    max_tries: int = 5
    base_delay: float = 2.0
    max_delay: float = 60.0

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")

    def delay(self, attempt: int, jitter: float, at_least: float = 0.0) -> float:
        """The wait after failed try number `attempt` (from 1); jitter in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return max(ceiling * (0.5 + jitter / 2), min(at_least, self.max_delay))


# --- Results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A message from PubMed about the query (ErrorList / WarningList in esearch)."""

    level: str  # 'error' or 'warning'
    kind: str  # NCBI's element name: PhraseNotFound, FieldNotFound, PhraseIgnored, ...
    text: str

    def __str__(self) -> str:
        label = _NOTICE_LABELS.get(self.kind, "")
        return f"{label}: {self.text}" if label else self.text


_NOTICE_LABELS = {
    "PhraseNotFound": "Phrase not found",
    "FieldNotFound": "Field not found",
    "QuotedPhraseNotFound": "Quoted phrase not found",
    "PhraseIgnored": "Phrase ignored",
}


@dataclass(frozen=True, kw_only=True)
class SearchCount:
    term: str
    count: int
    query_translation: str = ""
    # How PubMed mapped the query: (From, To), e.g. ('PNAS[ta]', '"Proc Natl ...').
    translations: tuple[tuple[str, str], ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def errors(self) -> tuple[Notice, ...]:
        return tuple(n for n in self.notices if n.level == "error")

    @property
    def warnings(self) -> tuple[Notice, ...]:
        return tuple(n for n in self.notices if n.level == "warning")


@dataclass(frozen=True, kw_only=True)
class SearchResult(SearchCount):
    """An esearch answer; with `webenv` and `query_key` when run on the history."""

    webenv: str = ""
    query_key: str = ""
    ids: tuple[str, ...] = ()  # the page of PMIDs the answer carried
    retstart: int = 0


@dataclass(frozen=True)
class SearchPlan:
    """A search as history sets of at most PUBMED_LIMIT records each.

    `count` is what the whole search matched; `total` what the parts hold together
    (the same, unless records arrived while the plan was being made).
    """

    term: str
    count: int
    parts: tuple[SearchResult, ...]
    query_translation: str = ""
    notices: tuple[Notice, ...] = ()

    @property
    def total(self) -> int:
        return sum(part.count for part in self.parts)


@dataclass(frozen=True)
class FetchBatch:
    """One efetch answer: PubmedArticleSet XML and its place in the run."""

    xml: bytes = field(repr=False)
    start: int  # position in the run of the first record asked for
    size: int  # records asked for
    records: int  # PubmedArticle + PubmedBookArticle elements in `xml`
    total: int  # records in the whole run

    @property
    def done(self) -> int:
        return min(self.start + self.size, self.total)


# --- The client ---------------------------------------------------------------------


class EntrezClient:
    def __init__(
        self,
        config: EntrezConfig,
        *,
        transport: Transport | None = None,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.config = config
        self.transport: Transport = transport or BiopythonTransport()
        self.limiter: Limiter = limiter or shared_limiter(config)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._jitter = jitter
        self._today = today

    # Searching ----------------------------------------------------------------------

    def count(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "pdat",
    ) -> SearchCount:
        """How many records the search matches, as PubMed understood it."""
        result = self._esearch(
            term, retmax=0, dates=self._dates(mindate, maxdate, datetype)
        )
        return SearchCount(
            term=result.term,
            count=result.count,
            query_translation=result.query_translation,
            translations=result.translations,
            notices=result.notices,
        )

    def search(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "pdat",
        retmax: int = 20,
    ) -> SearchResult:
        """Run the search on NCBI's history server (usehistory=y) for fetch()."""
        dates = self._dates(mindate, maxdate, datetype)
        return self._esearch(term, retmax=retmax, dates=dates, history=True)

    def plan(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "pdat",
    ) -> SearchPlan:
        """The search on the history server, split by Entrez date when it matches
        more than PUBMED_LIMIT records. One request when it does not."""
        dates = self._dates(mindate, maxdate, datetype)
        first = self._esearch(term, retmax=0, dates=dates, history=True)
        parts = self._split(
            first, lambda t: self._esearch(t, retmax=0, dates=dates, history=True)
        )
        return SearchPlan(
            term=term,
            count=first.count,
            parts=tuple(parts),
            query_translation=first.query_translation,
            notices=first.notices,
        )

    def pmids(
        self,
        term: str,
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "pdat",
    ) -> list[str]:
        """Every PMID the search matches now (no history server; split by Entrez
        date beyond PUBMED_LIMIT), without duplicates, in PubMed's order."""
        dates = self._dates(mindate, maxdate, datetype)

        def probe(window: str) -> SearchResult:
            return self._esearch(window, retmax=PUBMED_LIMIT, dates=dates)

        found: dict[str, None] = {}
        for part in self._split(probe(term), probe):
            ids = list(part.ids)
            while len(ids) < part.count:  # NCBI sent a short page: ask for the rest
                page = self._esearch(
                    part.term,
                    retmax=PUBMED_LIMIT,
                    retstart=len(ids),
                    dates=dates,
                )
                if not page.ids:
                    raise EntrezError(
                        f"PubMed listed {len(ids):,} of the {part.count:,} records "
                        "it said the search matches.",
                        retryable=True,
                    )
                ids.extend(page.ids)
            found.update(dict.fromkeys(ids))
        return list(found)

    def new_pmids(
        self,
        term: str,
        known: Collection[str],
        *,
        mindate: date | str | None = None,
        maxdate: date | str | None = None,
        datetype: str = "pdat",
    ) -> list[str]:
        """Living review: the PMIDs the search matches now that are not in `known`."""
        known_set = set(known)
        every = self.pmids(term, mindate=mindate, maxdate=maxdate, datetype=datetype)
        return [pmid for pmid in every if pmid not in known_set]

    # Fetching -----------------------------------------------------------------------

    def fetch(
        self, result: SearchResult, *, batch_size: int = 500, start: int = 0
    ) -> Iterator[FetchBatch]:
        """The records of a history search, `batch_size` a request, from `start`."""
        if not (result.webenv and result.query_key):
            raise ValueError("fetch() needs a search() result (run on the history)")
        if result.count > PUBMED_LIMIT:
            raise EntrezError(
                f"This search matches {result.count:,} records, and PubMed returns "
                f"at most {PUBMED_LIMIT:,} of one search: use plan() and fetch_plan()."
            )
        _check_batch(batch_size, start)
        return self._fetch_history(result, batch_size, start, 0, result.count)

    def fetch_plan(
        self, plan: SearchPlan, *, batch_size: int = 500, start: int = 0
    ) -> Iterator[FetchBatch]:
        """Every record of a plan, part after part; `start` skips that many."""
        _check_batch(batch_size, start)
        return self._fetch_parts(plan, batch_size, start)

    def fetch_pmids(
        self, pmids: Iterable[str], *, batch_size: int = 200
    ) -> Iterator[FetchBatch]:
        """The records with these PMIDs (duplicates dropped), `batch_size` a request.
        Biopython POSTs requests of 200 ids or more, as NCBI asks."""
        _check_batch(batch_size, 0)
        wanted = list(dict.fromkeys(str(pmid).strip() for pmid in pmids))
        bad = [pmid for pmid in wanted if not pmid.isdigit()]
        if bad:
            raise ValueError(f"not PMIDs: {', '.join(bad[:5])}")
        return self._fetch_ids(wanted, batch_size)

    # Internals ----------------------------------------------------------------------

    def _fetch_parts(
        self, plan: SearchPlan, batch_size: int, start: int
    ) -> Iterator[FetchBatch]:
        offset = 0
        for part in plan.parts:
            if start < offset + part.count:
                local = max(0, start - offset)
                yield from self._fetch_history(
                    part, batch_size, local, offset, plan.total
                )
            offset += part.count

    def _fetch_history(
        self,
        result: SearchResult,
        batch_size: int,
        start: int,
        offset: int,
        total: int,
    ) -> Iterator[FetchBatch]:
        for retstart in range(start, result.count, batch_size):
            size = min(batch_size, result.count - retstart)
            params = {
                "db": "pubmed",
                "query_key": result.query_key,
                "WebEnv": result.webenv,
                "retstart": str(retstart),
                "retmax": str(size),
                "retmode": "xml",
            }
            xml, records = self._call("efetch.fcgi", params, _check_pubmed_xml)
            yield FetchBatch(xml, offset + retstart, size, records, total)

    def _fetch_ids(self, pmids: list[str], batch_size: int) -> Iterator[FetchBatch]:
        for begin in range(0, len(pmids), batch_size):
            chunk = pmids[begin : begin + batch_size]
            params = {"db": "pubmed", "id": ",".join(chunk), "retmode": "xml"}
            xml, records = self._call("efetch.fcgi", params, _check_pubmed_xml)
            yield FetchBatch(xml, begin, len(chunk), records, len(pmids))

    def _esearch(
        self,
        term: str,
        *,
        retmax: int,
        dates: dict[str, str],
        history: bool = False,
        retstart: int = 0,
    ) -> SearchResult:
        if not term.strip():
            raise ValueError("The search is empty.")
        params = {"db": "pubmed", "term": term, "retmax": str(retmax), **dates}
        if retstart:
            params["retstart"] = str(retstart)
        if history:
            params["usehistory"] = "y"
        result = self._call("esearch.fcgi", params, lambda body: _esearch(body, term))
        if history and not (result.webenv and result.query_key):
            raise EntrezError("PubMed did not keep the search on its history server.")
        return result

    def _split(
        self, whole: SearchResult, probe: Callable[[str], SearchResult]
    ) -> list[SearchResult]:
        """`whole` if it is small enough, else its Entrez-date windows."""
        if whole.count <= PUBMED_LIMIT:
            return [whole] if whole.count else []
        parts: list[SearchResult] = []
        self._bisect(whole.term, EARLIEST_ENTREZ_DATE, self._today(), probe, parts)
        return parts

    def _bisect(
        self,
        term: str,
        low: date,
        high: date,
        probe: Callable[[str], SearchResult],
        parts: list[SearchResult],
    ) -> None:
        result = probe(f"({term}) AND {low:%Y/%m/%d}:{high:%Y/%m/%d}[edat]")
        if result.count <= PUBMED_LIMIT:
            if result.count:
                parts.append(result)
            return
        if low >= high:
            raise EntrezError(
                f"{result.count:,} records of this search entered PubMed on "
                f"{low:%Y-%m-%d}, more than the {PUBMED_LIMIT:,} PubMed returns for "
                "one search. Narrow the search."
            )
        middle = low + (high - low) // 2
        self._bisect(term, low, middle, probe, parts)
        self._bisect(term, middle + timedelta(days=1), high, probe, parts)

    def _dates(
        self,
        mindate: date | str | None,
        maxdate: date | str | None,
        datetype: str,
    ) -> dict[str, str]:
        """esearch's date limits; NCBI wants both ends, so a missing one is filled."""
        if mindate is None and maxdate is None:
            return {}
        if not re.fullmatch(r"[a-z]{3,5}", datetype):
            raise ValueError(f"not a PubMed date type: {datetype!r}")
        low = _date_param(mindate if mindate is not None else EARLIEST_ENTREZ_DATE)
        high = _date_param(maxdate if maxdate is not None else self._today())
        return {"mindate": low, "maxdate": high, "datetype": datetype}

    def _call(
        self, utility: str, params: dict[str, str], check: Callable[[bytes], T]
    ) -> T:
        """One E-utilities request, rate-limited, retried, checked by `check`."""
        params = {**params, **self.config.params()}
        policy = self.retry
        for attempt in range(1, policy.max_tries + 1):
            self.limiter.wait()
            try:
                return check(self.transport.get(utility, params))
            except EntrezError as error:  # the request itself is wrong: no retry
                error.attempts = attempt
                raise
            except HTTPError as error:
                failure = _http_failure(error)
                if isinstance(failure, EntrezError):
                    failure.attempts = attempt
                    raise failure from error
            except (OSError, http.client.HTTPException) as error:
                failure = _Transient(
                    f"connection failed ({str(error) or type(error).__name__})"
                )
            except _Transient as error:
                failure = error
            if attempt == policy.max_tries:
                raise EntrezError(
                    f"PubMed did not answer after {attempt} tries: {failure.reason}",
                    status=failure.status,
                    attempts=attempt,
                    retryable=True,
                ) from failure
            delay = policy.delay(attempt, self._jitter(), failure.wait)
            logger.warning(
                "%s failed (%s); try %d of %d in %.1f s",
                utility,
                failure.reason,
                attempt + 1,
                policy.max_tries,
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _check_batch(batch_size: int, start: int) -> None:
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
    if start < 0:
        raise ValueError("start must not be negative")


def _date_param(value: date | str) -> str:
    if isinstance(value, date):
        return f"{value:%Y/%m/%d}"
    text = value.strip().replace("-", "/")
    if not re.fullmatch(r"\d{4}(/\d{1,2}(/\d{1,2})?)?", text):
        raise ValueError(f"not a PubMed date (YYYY, YYYY/MM or YYYY/MM/DD): {value!r}")
    return text


# --- Reading NCBI's answers ---------------------------------------------------------

# <ERROR> texts that mean the request itself is wrong: repeating it cannot help.
_PERMANENT_ERROR = re.compile(
    r"empty (term|id)|invalid|unknown (db|database)|not supported|too many uids", re.I
)


_API_KEY_VALUE = re.compile(r"""(api[-_]key["']?\s*[:=]\s*["']?)[^"'&\s,}]+""", re.I)


def _snippet(body: bytes, limit: int = 200) -> str:
    """The start of an answer, for messages; NCBI's 429 body echoes the API key."""
    text = " ".join(body[:limit].decode("utf-8", "replace").split())
    text = _API_KEY_VALUE.sub(r"\1***", text)
    return text + ("..." if len(body) > limit else "")


def _http_failure(error: HTTPError) -> _Transient | EntrezError:
    try:
        body = error.read() or b""
    except Exception:  # the body is only for the message
        body = b""
    detail = f"HTTP {error.code} {error.reason}" + (
        f": {_snippet(body)}" if body else ""
    )
    if error.code == 429 or 500 <= error.code < 600:
        wait = 0.0
        retry_after = error.headers.get("Retry-After", "") if error.headers else ""
        if retry_after.strip().isdigit():
            wait = float(retry_after)
        return _Transient(detail, status=error.code, wait=wait)
    return EntrezError(f"PubMed refused the request ({detail}).", status=error.code)


def _ncbi_error(text: str) -> Exception:
    message = f"PubMed reported an error: {text}"
    if _PERMANENT_ERROR.search(text):
        return EntrezError(message)
    return _Transient(message)


def _root(body: bytes, expected: str) -> ET.Element:
    """The document element, which must be <expected> without an <ERROR> in it."""
    try:
        root = ET.fromstring(body)  # noqa: S314 - expat resolves no external entities
    except ET.ParseError as error:
        raise _Transient(
            f"the answer is not well-formed XML ({error}): {_snippet(body)!r}"
        ) from None
    error_text = root.findtext(".//ERROR")
    if error_text is not None:
        raise _ncbi_error(" ".join(error_text.split()) or "unspecified error")
    if root.tag != expected:
        raise _Transient(f"expected <{expected}>, got <{root.tag}>: {_snippet(body)!r}")
    return root


def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _esearch(body: bytes, term: str) -> SearchResult:
    root = _root(body, "eSearchResult")
    count = root.findtext("Count", "").strip()
    if not count.isdigit():
        raise _Transient(f"the esearch answer has no Count: {_snippet(body)!r}")
    notices = [
        Notice(level, child.tag, _text(child))
        for level, path in (("error", "ErrorList"), ("warning", "WarningList"))
        for child in root.findall(f"{path}/*")
    ]
    return SearchResult(
        term=term,
        count=int(count),
        query_translation=_text(root.find("QueryTranslation")),
        translations=tuple(
            (_text(item.find("From")), _text(item.find("To")))
            for item in root.findall("TranslationSet/Translation")
        ),
        notices=tuple(notices),
        webenv=root.findtext("WebEnv", "").strip(),
        query_key=root.findtext("QueryKey", "").strip(),
        ids=tuple(_text(item) for item in root.findall("IdList/Id")),
        retstart=int(root.findtext("RetStart", "0").strip() or 0),
    )


_RECORD_TAGS = frozenset({"PubmedArticle", "PubmedBookArticle"})


def _check_pubmed_xml(body: bytes) -> tuple[bytes, int]:
    """`body` and its number of records, if it is a whole PubmedArticleSet.

    Streams with iterparse, clearing records as it goes, so a 500-record batch is
    not held twice as a tree. A truncated or foreign answer is a failed attempt.
    """
    records = 0
    depth = 0
    try:
        events = ET.iterparse(io.BytesIO(body), events=("start", "end"))  # noqa: S314
        for event, element in events:
            if event == "start":
                if depth == 0 and element.tag != "PubmedArticleSet":
                    _root(body, "PubmedArticleSet")  # raises: <ERROR> or foreign
                depth += 1
                continue
            depth -= 1
            if depth == 1:
                if element.tag in _RECORD_TAGS:
                    records += 1
                element.clear()
    except ET.ParseError as error:
        raise _Transient(
            f"the efetch answer is not well-formed XML ({error}): {_snippet(body)!r}"
        ) from None
    return body, records
