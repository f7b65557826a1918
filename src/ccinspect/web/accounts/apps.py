from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ccinspect.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from ccinspect.web.integrity import readonly

        from . import audit

        audit.connect()
        connection_created.connect(readonly.register, dispatch_uid="ccinspect-readonly")
