from django.contrib import admin
from django.urls import include, path

from yingji.api.urls import api

urlpatterns = [
    path("", include("yingji.core.urls")),
    path("enterprises/", include("yingji.enterprises.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
