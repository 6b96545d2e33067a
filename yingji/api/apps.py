from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "yingji.api"
    label = "api"
