from django.urls import path

from screening import import_views, views

app_name = "screening"

STAGE = "reviews/<id:review_id>/screening/<stage:stage>/"

urlpatterns = [
    path("reviews/<id:review_id>/screening/", views.dashboard, name="dashboard"),
    path("reviews/<id:review_id>/screening/reasons/", views.reasons, name="reasons"),
    path(
        "reviews/<id:review_id>/screening/reasons/<id:reason_id>/",
        views.reason_change,
        name="reason_change",
    ),
    path(
        "reviews/<id:review_id>/screening/highlights/",
        views.highlights,
        name="highlights",
    ),
    path(
        "reviews/<id:review_id>/screening/highlights/<id:term_id>/delete/",
        views.highlight_delete,
        name="highlight_delete",
    ),
    path(
        "reviews/<id:review_id>/screening/shortcuts/",
        views.shortcuts,
        name="shortcuts",
    ),
    path(STAGE, views.screen, name="screen"),
    path(STAGE + "settings/", views.stage_settings, name="settings"),
    path(STAGE + "undo/", views.undo, name="undo"),
    path(STAGE + "unblind/", views.unblind, name="unblind"),
    path(STAGE + "records/<id:record_id>/vote/", views.vote, name="vote"),
    path(STAGE + "records/<id:record_id>/resolve/", views.resolve, name="resolve"),
    path(STAGE + "pilot/", views.pilot, name="pilot"),
    path(STAGE + "pilot/start/", views.pilot_start, name="pilot_start"),
    path(STAGE + "pilot/<id:pilot_id>/close/", views.pilot_close, name="pilot_close"),
    path(
        STAGE + "pilot/<id:pilot_id>/records/<id:record_id>/vote/",
        views.pilot_vote,
        name="pilot_vote",
    ),
]

urlpatterns += [
    path(
        "reviews/<id:review_id>/screening/full-texts/<id:record_id>.pdf",
        views.full_text,
        name="full_text",
    ),
    path(
        "reviews/<id:review_id>/screening/full-texts/<id:record_id>/upload/",
        views.full_text_upload,
        name="full_text_upload",
    ),
]

urlpatterns += [
    path(
        "reviews/<id:review_id>/screening/full-texts/",
        views.full_texts,
        name="full_texts",
    ),
    path(
        "reviews/<id:review_id>/screening/full-texts/files/<id:full_text_id>/assign/",
        views.full_text_assign,
        name="full_text_assign",
    ),
]

urlpatterns += [
    path(STAGE + "import/", import_views.decision_import, name="decision_import"),
]
