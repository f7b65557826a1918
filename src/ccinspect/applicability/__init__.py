"""Applicability: broker profile, tiers, the applicability engine and the inspection calendar."""

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
    "Applicability", "ApplicabilityError", "BrokerProfile", "DutyView", "Entry",
    "ProfileError", "evaluate", "load_profile", "parse_capital",
    "ProfileHistory", "profile_from_mapping", "profile_tier", "tier_for_capital",
]
