from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "ccinspect.web.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from ccinspect.web.accounts import audit

        for label in ("incidents.Incident", "incidents.BcpFollowUp"):
            if label not in audit.TRACKED:
                audit.TRACKED.append(label)
        audit.connect()
