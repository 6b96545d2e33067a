from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "yingji.demo"
    label = "demo"
    verbose_name = "Demo district"
