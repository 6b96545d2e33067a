from django.urls import path

from yingji.stats import views

urlpatterns = [
    path("", views.dashboard, name="stats-dashboard"),
    path("records/<str:key>/", views.records, name="stats-records"),
]
