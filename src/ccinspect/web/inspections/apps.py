from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "ccinspect.web.inspections"
    label = "inspections"
    verbose_name = "Inspections"
