from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("accounts/profile/", views.profile, name="profile"),
    path("healthz/", views.health, name="health"),
]
