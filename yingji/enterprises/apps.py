from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "yingji.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self) -> None:
        from yingji.core.views import HOME_PANELS
        from yingji.enterprises import interchange  # noqa: F401  (registers `enterprise`)
        from yingji.enterprises.views import home_panel

        HOME_PANELS.append(home_panel)
