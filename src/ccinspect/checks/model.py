"""Moved to ccinspect.core.results; kept while the evidence readers (issue 21) still import it from here."""

from ccinspect.core.results import Check, EvidenceError, Fact, RequirementResult, Status

__all__ = ["Check", "EvidenceError", "Fact", "RequirementResult", "Status"]
