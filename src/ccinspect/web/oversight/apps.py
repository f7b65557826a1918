from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "ccinspect.web.oversight"
    label = "oversight"
    verbose_name = "Regulator inspections of brokers (查核證券商)"

    def ready(self) -> None:
        from ccinspect.web.accounts import audit

        for model in ("DeductionTable", "DeductionEntry", "ThematicInspection", "Engagement", "EvidenceRequest",
                      "Answer", "InspectorNote", "AnalyzerRun", "Observation"):
            label = f"oversight.{model}"
            if label not in audit.TRACKED:
                audit.TRACKED.append(label)
        audit.connect()
