from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatsConfig(AppConfig):
    name = "yingji.stats"
    label = "stats"
    verbose_name = _("Statistics")

    def ready(self) -> None:
        from yingji.core.views import HOME_PANELS
        from yingji.stats.views import home_panel

        HOME_PANELS.append(home_panel)
