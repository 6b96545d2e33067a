from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    name = "yingji.hazards"
    label = "hazards"
    verbose_name = _("Hazards")

    def ready(self) -> None:
        from yingji.core.management.commands.worker import STARTUP_TASKS
        from yingji.hazards import interchange  # noqa: F401  (registers `hazard`)
        from yingji.hazards.services import ensure_reminders_scheduled

        STARTUP_TASKS.append(ensure_reminders_scheduled)

        from yingji.enterprises.views import DETAIL_PANELS
        from yingji.hazards.views import enterprise_panel, inspection_panel
        from yingji.inspections import views as inspection_views

        inspection_views.DETAIL_PANELS.append(inspection_panel)
        DETAIL_PANELS.append(enterprise_panel)
