"""Business continuity (internal-control standard CC-20000): the register, its gap rules, XLSX in and out.

Plain functions over pydantic records; the CLI and the web app both call these:
    reg = load_register(path)                      # data dir, continuity.yaml or .xlsx
    status = evaluate(reg, profile, as_of)        # gaps now, upcoming DR shortfall, drills due, …
    write_workbook(reg, out); import_workbook(xlsx, data_dir); amendment()
"""

from .amendment import ClauseChange, amendment
from .engine import CHECKS, DrOutlook, DueItem, Gap, Status, dr_milestone, evaluate
from .model import (
    KINDS,
    MOMENT_TEXT,
    MOMENT_TEXT_EN,
    TOLERANCE_FEEDS,
    CoreSystem,
    DrCoverage,
    Drill,
    DrillKind,
    FallbackPlan,
    ImpactAnalysis,
    Moment,
    PlanForm,
    ProviderPlan,
    Register,
    Result,
    RiskScenario,
    ToleranceClass,
    reference_problems,
)
from .rules import Clause, Rule, RulesError, RuleSet, default_rules, load_rules
from .store import (
    REGISTER_XLSX,
    REGISTER_YAML,
    Problem,
    RegisterError,
    build_register,
    dump_yaml,
    import_workbook,
    load_register,
    read_workbook,
    read_yaml,
    save_register,
    write_workbook,
)

__all__ = [
    "CHECKS", "KINDS", "MOMENT_TEXT", "MOMENT_TEXT_EN", "REGISTER_XLSX", "REGISTER_YAML", "TOLERANCE_FEEDS",
    "Clause", "ClauseChange", "CoreSystem", "DrCoverage", "DrOutlook", "Drill", "DrillKind", "DueItem",
    "FallbackPlan", "Gap", "ImpactAnalysis", "Moment", "PlanForm", "Problem", "ProviderPlan", "Register",
    "RegisterError", "Result", "RiskScenario", "Rule", "RuleSet", "RulesError", "Status", "ToleranceClass",
    "amendment", "build_register", "default_rules", "dr_milestone", "dump_yaml", "evaluate", "import_workbook",
    "load_register", "load_rules", "read_workbook", "read_yaml", "reference_problems", "save_register",
    "write_workbook",
]
