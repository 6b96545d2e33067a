from django.urls import path, re_path

from yingji.enterprises import views

urlpatterns = [
    path("", views.enterprise_list, name="enterprises-list"),
    path("new/", views.enterprise_create, name="enterprises-create"),
    re_path(r"^export\.(?P<fmt>jsonl|xlsx)$", views.enterprise_export, name="enterprises-export"),
    path("<int:pk>/", views.enterprise_detail, name="enterprises-detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="enterprises-edit"),
    path("<int:pk>/upload/", views.enterprise_upload, name="enterprises-upload"),
]
