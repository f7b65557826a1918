from django.apps import AppConfig


class NotificationConfig(AppConfig):
    name = "ccinspect.web.notification"
    label = "notification"
    verbose_name = "Customer notification"

    def ready(self) -> None:
        from ccinspect.web.accounts import audit

        for label in ("notification.Gateway", "notification.MessageTemplate", "notification.Notification",
                      "notification.Attempt", "notification.Case"):
            if label not in audit.TRACKED:
                audit.TRACKED.append(label)
        audit.connect()
