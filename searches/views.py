from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST, require_safe

from core.access import get_review_for_user
from core.models import AuthenticatedHttpRequest
from core.roles import Role
from core.uploads import upload_refusal
from searches import services
from searches.entrez import EntrezError
from searches.forms import (
    COMMON_DATABASES,
    ColumnMappingForm,
    PubMedForm,
    RecordFilterForm,
    UploadForm,
)
from searches.models import Record, Search

RECORDS_PER_PAGE = 50
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> object:
    """Text that a spreadsheet would run as a formula (search strings often start
    with '-' or '='), made inert with a leading apostrophe (OWASP CSV injection)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


SEARCH_LOG_COLUMNS = [
    "Source type",
    "Database or register",
    "Interface or platform",
    "Date run",
    "Search string",
    "Limits and filters",
    "Hits reported",
    "Records imported",
    "File",
    "SHA-256",
    "Run by",
    "Status",
    "Notes",
]


@login_required
@require_safe
def search_log(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    searches = (
        Search.objects.filter(review=review)
        .select_related("created_by", "job")
        .order_by("run_on", "pk")
    )
    totals = searches.filter(status=Search.Status.IMPORTED).aggregate(
        records=Sum("records_imported")
    )
    context = {"review": review, "searches": searches, "totals": totals}
    return render(request, "searches/log.html", context)


@login_required
@require_safe
def search_log_csv(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """The search appendix (PRISMA-S): one row per search, as run."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(review.title)[:50] or "review"
    response["Content-Disposition"] = f'attachment; filename="{name}-searches.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(response)
    writer.writerow(SEARCH_LOG_COLUMNS)
    for search in (
        Search.objects.filter(review=review)
        .select_related("created_by")
        .order_by("run_on", "pk")
    ):
        row = [
            search.get_source_type_display(),
            search.database,
            search.platform,
            search.run_on.isoformat(),
            search.query,
            search.filters,
            search.hits_reported if search.hits_reported is not None else "",
            search.records_imported,
            search.file_name,
            search.file_sha256,
            search.created_by.name if search.created_by else "",
            search.get_status_display(),
            search.notes,
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response


@login_required
def upload(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    form = UploadForm(
        request.POST or None, request.FILES or None, refused=upload_refusal(request)
    )
    if request.method == "POST" and form.is_valid():
        details = {k: v for k, v in form.cleaned_data.items() if k != "file"}
        upload_file = form.cleaned_data["file"]
        try:
            search = services.search_file_create(
                review=review,
                actor=request.user,
                upload=upload_file,
                file_name=upload_file.name,
                **details,
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            if search.status == Search.Status.MAPPING:
                messages.info(
                    request,
                    f"We do not recognise the columns of {search.file_name}: "
                    "say which column holds what.",
                )
                return redirect("searches:mapping", review.pk, search.pk)
            messages.success(request, f"{search.file_name} is being imported.")
            return redirect(search)
    context = {"review": review, "form": form, "databases": COMMON_DATABASES}
    return render(request, "searches/upload.html", context)


@login_required
@require_safe
def search_detail(
    request: AuthenticatedHttpRequest, review_id: int, search_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    search = get_object_or_404(
        Search.objects.select_related("job", "created_by"), pk=search_id, review=review
    )
    return render(request, "searches/detail.html", {"review": review, "search": search})


@login_required
@require_safe
def records(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    form = RecordFilterForm(request.GET)
    found = Record.objects.visible(review.pk)
    if form.is_valid():
        data = form.cleaned_data
        found = found.matching(data["q"]).between_years(
            data["year_from"], data["year_to"]
        )
        if data["search"]:
            found = found.from_search(data["search"])
    else:
        messages.error(request, "Some filters were not valid and were ignored.")
    page = Paginator(
        found.only(
            "id", "review_id", "title", "authors", "year", "journal", "doi", "pmid"
        ).order_by("id"),
        RECORDS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    # records_imported is kept on each search: no count over 100,000 sources per view.
    sources = Search.objects.filter(review=review, status=Search.Status.IMPORTED).only(
        "id", "database", "run_on", "records_imported"
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "review": review,
        "form": form,
        "page": page,
        "sources": sources,
        "query": query.urlencode(),
    }
    return render(request, "searches/records.html", context)


@login_required
@require_safe
def record_detail(
    request: AuthenticatedHttpRequest, review_id: int, record_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    record = get_object_or_404(Record.objects.visible(review.pk), pk=record_id)
    sources = record.sources.select_related("search").order_by("search__run_on")
    context = {"review": review, "record": record, "sources": sources}
    return render(request, "searches/record.html", context)


@login_required
def pubmed(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """Search PubMed: preview the count, then run and import in the background."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    form = PubMedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            search = services.pubmed_search_create(
                review=review, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error("term", error)
        else:
            messages.success(request, "The PubMed search is running.")
            return redirect(search)
    return render(request, "searches/pubmed.html", {"review": review, "form": form})


@login_required
@require_safe
def pubmed_count(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """htmx fragment: how many records a PubMed search would bring."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    form = PubMedForm(request.GET)
    context: dict[str, object] = {"review": review, "form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            context["counted"] = services.entrez_client().count(
                data["term"],
                mindate=data["mindate"] or None,
                maxdate=data["maxdate"] or None,
            )
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
        except EntrezError as error:
            context["error"] = error.message
    return render(request, "searches/pubmed.html#count", context)


@login_required
@require_POST
def search_rerun(
    request: AuthenticatedHttpRequest, review_id: int, search_id: int
) -> HttpResponse:
    """Run a saved PubMed search again; only records not imported before come in."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    earlier = get_object_or_404(
        Search, pk=search_id, review=review, method=Search.Method.ENTREZ
    )
    dates = earlier.column_mapping or {}
    try:
        search = services.pubmed_search_create(
            review=review,
            actor=request.user,
            term=earlier.query,
            mindate=dates.get("mindate", ""),
            maxdate=dates.get("maxdate", ""),
            rerun_of=earlier,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(earlier)
    messages.success(
        request, "The search is running again; only new records will be added."
    )
    return redirect(search)


@login_required
def mapping(
    request: AuthenticatedHttpRequest, review_id: int, search_id: int
) -> HttpResponse:
    """Say which column of a CSV/Excel file holds which field."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    search = get_object_or_404(
        Search, pk=search_id, review=review, status=Search.Status.MAPPING
    )
    header = services.search_header(search)
    form = ColumnMappingForm(request.POST or None, header=header)
    if request.method == "POST" and form.is_valid():
        try:
            services.search_mapping_set(
                search=search, actor=request.user, columns=form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Columns mapped; the import has started.")
            return redirect(search)
    context = {"review": review, "search": search, "form": form, "header": header}
    return render(request, "searches/mapping.html", context)


@login_required
@require_POST
def search_discard(
    request: AuthenticatedHttpRequest, review_id: int, search_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    search = get_object_or_404(Search, pk=search_id, review=review)
    try:
        services.search_discard(search=search, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(search)
    messages.success(request, f"{search.file_name or search.database} was discarded.")
    return redirect("searches:log", review.pk)
