from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "yingji.alerts"
    label = "alerts"
    verbose_name = _("Warnings")

    def ready(self) -> None:
        from yingji.alerts import services
        from yingji.core import notify
        from yingji.core.management.commands.worker import STARTUP_TASKS

        # The escalation sweep keeps itself scheduled; a worker start makes sure one waits.
        STARTUP_TASKS.append(services.ensure_escalation_scheduled)
        # Units whose messages got through show as delivered.
        notify.AFTER_DELIVERY.append(services.mark_delivered)
        # Registrations of the app's other parts (interchange record types, panels) follow.
        from yingji.alerts import (
            interchange,  # noqa: F401  (registers `alert` and `rollcall`)
            views,  # noqa: F401  (registers the home panel)
        )
