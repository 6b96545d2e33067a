from django.contrib.auth import views as auth_views
from django.urls import path

from yingji.core import views

urlpatterns = [
    path("", views.home, name="core-home"),
    path("login/", views.LoginView.as_view(), name="core-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="core-logout"),
    path("password/", views.PasswordChangeView.as_view(), name="core-password"),
    path("regions/", views.region_list, name="core-regions"),
    path("departments/", views.department_list, name="core-departments"),
    path("inbox/", views.inbox, name="core-inbox"),
    path("inbox/read/", views.inbox_read, name="core-inbox-read"),
    path("audit/", views.audit_log, name="core-audit"),
    path("files/<uuid:pk>/", views.attachment_download, name="core-attachment"),
    path("imports/", views.import_new, name="core-import"),
    path("imports/<uuid:pk>/", views.import_detail, name="core-import-detail"),
]
