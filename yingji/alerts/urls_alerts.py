from django.urls import path

from yingji.alerts import views

urlpatterns = [
    path("", views.alert_list, name="alerts-list"),
    path("new/", views.alert_new, name="alerts-new"),
    path("mine/", views.alert_mine, name="alerts-mine"),
    path("units/", views.unit_list, name="alerts-units"),
    path("units/stats/", views.unit_stats, name="alerts-unit-stats"),
    path("units/<int:pk>/", views.unit_detail, name="alerts-unit"),
    path("a/<str:token>/", views.ack_link, name="alerts-ack-link"),
    path("<int:pk>/", views.alert_detail, name="alerts-detail"),
    path("<int:pk>/edit/", views.alert_edit, name="alerts-edit"),
    path("<int:pk>/board/", views.alert_board, name="alerts-board"),
    path("<int:pk>/<str:name>/", views.alert_action, name="alerts-action"),
]
