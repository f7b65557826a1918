from django.apps import AppConfig


class RegulatorConfig(AppConfig):
    name = "ccinspect.web.regulator"
    label = "regulator"
    verbose_name = "Regulator"
