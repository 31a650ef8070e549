from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/email/<str:token>/", views.email_confirm, name="email_confirm"),
    path("healthz/", views.health, name="health"),
]
