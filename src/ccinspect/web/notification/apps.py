from django.apps import AppConfig


class NotificationConfig(AppConfig):
    name = "ccinspect.web.notification"
    label = "notification"
    verbose_name = "Customer notification"

    def ready(self) -> None:
        from ccinspect.web.accounts import audit

        # Notifications are created and attempts recorded in bulk: services.py writes one audit entry per
        # request and per dispatch run, listing each; answers and cases are tracked one by one.
        for label in ("notification.Gateway", "notification.MessageTemplate", "notification.Notification",
                      "notification.Case"):
            if label not in audit.TRACKED:
                audit.TRACKED.append(label)
        audit.connect()
