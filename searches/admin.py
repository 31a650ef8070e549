from django.contrib import admin

from searches.models import ColumnMappingMemory, Record, RecordSource, Search


@admin.register(Search)
class SearchAdmin(admin.ModelAdmin[Search]):
    list_display = [
        "database",
        "review",
        "run_on",
        "status",
        "records_imported",
        "file_name",
    ]
    list_filter = ["status", "method", "source_type"]
    search_fields = ["database", "query", "file_name", "review__title"]
    list_select_related = ["review"]
    readonly_fields = ["file_sha256", "file_size", "records_imported", "job", "error"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin[Record]):
    list_display = ["title", "year", "doi", "pmid", "review"]
    search_fields = ["title", "doi", "pmid"]
    list_select_related = ["review"]
    raw_id_fields = ["review", "search"]
    show_full_result_count = False  # no COUNT(*) over 100,000 records per page view


@admin.register(RecordSource)
class RecordSourceAdmin(admin.ModelAdmin[RecordSource]):
    list_display = ["record", "search", "position", "source_id"]
    search_fields = ["source_id", "record__title"]
    raw_id_fields = ["record", "search"]
    show_full_result_count = False


@admin.register(ColumnMappingMemory)
class ColumnMappingMemoryAdmin(admin.ModelAdmin[ColumnMappingMemory]):
    list_display = ["review", "header_key", "updated_at"]
    search_fields = ["review__title"]
