from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.home, name="home"),
    path("reviews/new/", views.review_create, name="create"),
    path("reviews/<id:review_id>/", views.dashboard, name="dashboard"),
    path("reviews/<id:review_id>/edit/", views.review_edit, name="edit"),
    path("reviews/<id:review_id>/team/", views.team, name="team"),
    path("reviews/<id:review_id>/team/invite/", views.invite, name="invite"),
    path(
        "reviews/<id:review_id>/team/<id:membership_id>/role/",
        views.member_role,
        name="member_role",
    ),
    path(
        "reviews/<id:review_id>/team/<id:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "reviews/<id:review_id>/invitations/<id:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "reviews/<id:review_id>/invitations/<id:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path("reviews/<id:review_id>/activity/", views.activity, name="activity"),
    path(
        "reviews/<id:review_id>/jobs/<id:job_id>/", views.job_status, name="job_status"
    ),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
