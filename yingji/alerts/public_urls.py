"""The public warning pages, mounted at /public/alerts/ (no account)."""

from django.urls import path

from yingji.alerts import public

urlpatterns = [
    path("", public.alert_list, name="alerts-public-list"),
    path("<int:pk>/", public.alert_detail, name="alerts-public-detail"),
]
