from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "ccinspect.web.security"
    label = "security"
    verbose_name = "Security headers and rate limits"
