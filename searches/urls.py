from django.urls import path

from searches import views

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
    path("reviews/<id:review_id>/records/", views.records, name="records"),
    path(
        "reviews/<id:review_id>/records/<id:record_id>/",
        views.record_detail,
        name="record",
    ),
]
