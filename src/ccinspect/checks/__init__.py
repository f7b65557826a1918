"""Automated evidence checks: analyzers over a broker's artifacts, tied to the requirements they serve."""

from ccinspect.core.results import Check, EvidenceError, Fact, RequirementResult, Status

from .rules import RuleTable, load_rules
from .runner import REPORT_FORMAT, Inspection, inspect, registry

__all__ = [
    "REPORT_FORMAT", "Check", "EvidenceError", "Fact", "Inspection", "RequirementResult", "RuleTable", "Status",
    "inspect", "load_rules", "registry",
]
