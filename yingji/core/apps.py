from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "yingji.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from yingji.core import interchange_types  # noqa: F401  (registers `region`)
