from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "ccinspect.web.dashboard"
    label = "dashboard"
