from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnforcementConfig(AppConfig):
    name = "yingji.enforcement"
    label = "enforcement"
    verbose_name = _("Enforcement")

    def ready(self) -> None:
        from yingji.enforcement import interchange  # noqa: F401  (registers `enforcement`)
        from yingji.enforcement.views import enterprise_panel
        from yingji.enterprises.views import DETAIL_PANELS

        DETAIL_PANELS.append(enterprise_panel)

        from yingji.enforcement.views import hazard_panel
        from yingji.hazards import views as hazard_views

        hazard_views.DETAIL_PANELS.append(hazard_panel)
