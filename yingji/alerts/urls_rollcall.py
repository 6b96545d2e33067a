from django.urls import path

from yingji.alerts import views_rollcall as views

urlpatterns = [
    path("rollcalls/", views.rollcall_list, name="alerts-rollcalls"),
    path("rollcalls/new/", views.rollcall_new, name="alerts-rollcall-new"),
    path("rollcalls/missed/", views.rollcall_missed, name="alerts-rollcall-missed"),
    path("rollcalls/<int:pk>/", views.rollcall_detail, name="alerts-rollcall"),
]
