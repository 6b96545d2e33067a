from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TipsConfig(AppConfig):
    name = "yingji.tips"
    label = "tips"
    verbose_name = _("Public tips")

    def ready(self) -> None:
        from yingji.tips import interchange  # noqa: F401  (registers `tip`)
