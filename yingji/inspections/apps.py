from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "yingji.inspections"
    label = "inspections"
    verbose_name = _("Inspections")

    def ready(self) -> None:
        from yingji.enterprises.views import DETAIL_PANELS
        from yingji.inspections import interchange  # noqa: F401  (registers `inspection`)
        from yingji.inspections.views import enterprise_panel

        DETAIL_PANELS.append(enterprise_panel)
