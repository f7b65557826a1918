from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "ccinspect.web.brokers"
    label = "brokers"
    verbose_name = "Brokers"
