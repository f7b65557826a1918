from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ccinspect.web.api"
    label = "api"
