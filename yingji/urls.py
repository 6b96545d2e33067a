from django.contrib import admin
from django.urls import include, path

from yingji.api.urls import api
from yingji.inspections.urls import public_urlpatterns

urlpatterns = [
    path("", include("yingji.core.urls")),
    path("enterprises/", include("yingji.enterprises.urls")),
    path("inspections/", include("yingji.inspections.urls")),
    path("hazards/", include("yingji.hazards.urls")),
    path("enforcement/", include("yingji.enforcement.urls")),
    path("tips/", include("yingji.tips.urls")),
    path("alerts/", include("yingji.alerts.urls")),
    path("stats/", include("yingji.stats.urls")),
    path("public/tips/", include("yingji.tips.public_urls")),
    path("public/alerts/", include("yingji.alerts.public_urls")),
    path("public/", include(public_urlpatterns)),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
