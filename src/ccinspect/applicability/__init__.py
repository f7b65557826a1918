"""Applicability: broker profile, tiers, ROC dates, the applicability engine and the inspection calendar."""

from .dates import DateParseError, dual, parse_date, to_roc
from .engine import (
    Applicability,
    ApplicabilityError,
    DutyView,
    Entry,
    evaluate,
    profile_tier,
    tier_for_capital,
)
from .profile import (
    BrokerProfile,
    ProfileError,
    ProfileHistory,
    load_profile,
    parse_capital,
    profile_from_mapping,
)

__all__ = [
    "Applicability", "ApplicabilityError", "BrokerProfile", "DateParseError", "DutyView", "Entry",
    "ProfileError", "dual", "evaluate", "load_profile", "parse_capital", "parse_date",
    "ProfileHistory", "profile_from_mapping", "profile_tier", "tier_for_capital", "to_roc",
]
