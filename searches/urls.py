from django.urls import path

from searches import dedup_views, views

app_name = "searches"

urlpatterns = [
    path("reviews/<id:review_id>/searches/", views.search_log, name="log"),
    path("reviews/<id:review_id>/searches.csv", views.search_log_csv, name="log_csv"),
    path("reviews/<id:review_id>/searches/upload/", views.upload, name="upload"),
    path(
        "reviews/<id:review_id>/searches/<id:search_id>/",
        views.search_detail,
        name="detail",
    ),
    path("reviews/<id:review_id>/searches/pubmed/", views.pubmed, name="pubmed"),
    path(
        "reviews/<id:review_id>/searches/pubmed/count/",
        views.pubmed_count,
        name="pubmed_count",
    ),
    path(
        "reviews/<id:review_id>/searches/<id:search_id>/rerun/",
        views.search_rerun,
        name="rerun",
    ),
    path(
        "reviews/<id:review_id>/searches/<id:search_id>/discard/",
        views.search_discard,
        name="discard",
    ),
    path(
        "reviews/<id:review_id>/searches/<id:search_id>/columns/",
        views.mapping,
        name="mapping",
    ),
    path("reviews/<id:review_id>/duplicates/", dedup_views.overview, name="dedup"),
    path("reviews/<id:review_id>/duplicates/run/", dedup_views.run, name="dedup_run"),
    path(
        "reviews/<id:review_id>/duplicates/settings/",
        dedup_views.settings,
        name="dedup_settings",
    ),
    path(
        "reviews/<id:review_id>/duplicates/queue/",
        dedup_views.queue,
        name="dedup_queue",
    ),
    path(
        "reviews/<id:review_id>/duplicates/pairs/<id:pair_id>/",
        dedup_views.decide,
        name="dedup_decide",
    ),
    path(
        "reviews/<id:review_id>/duplicates/merges/",
        dedup_views.merges,
        name="dedup_merges",
    ),
    path(
        "reviews/<id:review_id>/duplicates/merges/<id:merge_id>/undo/",
        dedup_views.undo,
        name="dedup_undo",
    ),
    path(
        "reviews/<id:review_id>/duplicates.csv",
        dedup_views.report,
        name="dedup_report",
    ),
    path("reviews/<id:review_id>/records/", views.records, name="records"),
    path(
        "reviews/<id:review_id>/records/<id:record_id>/",
        views.record_detail,
        name="record",
    ),
]
