from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "ccinspect.web.reporting"
    label = "reporting"
    verbose_name = "Reports"
