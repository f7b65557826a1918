from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "ccinspect.web.continuity"
    label = "continuity"
    verbose_name = "Business continuity"

    def ready(self) -> None:
        from ccinspect.web.accounts import audit

        from .models import MODELS

        for model in [*MODELS.values(), "GapFinding"]:
            label = f"continuity.{model if isinstance(model, str) else model.__name__}"
            if label not in audit.TRACKED:
                audit.TRACKED.append(label)
        audit.connect()
