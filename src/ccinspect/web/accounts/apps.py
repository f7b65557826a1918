from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ccinspect.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import audit

        audit.connect()
