"""The drill intervals, judged in one place for the continuity register and the evidence analyzers.

Order: the tier schedule's frequency for the broker's tier (tiers.yaml), else the broker's own interval
(profile assumed_intervals) where the text says only 定期, else the interval recurring.yaml proposes,
marked as assumed when the text gives none.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccinspect.applicability.engine import duty_view


@dataclass(frozen=True)
class Interval:
    months: int | None  # None: the tier duty does not bind this tier
    assumed: bool
    source: str
    source_zh: str
    binds: bool = True
    tiers: tuple[int, ...] = ()

    @property
    def note(self) -> str:
        return f"{self.source}{' — an assumption: the text says only 定期' if self.assumed else ''}"


def drill_interval(cat, tier: int | None, *, recurring: str, tier_duty: str | None = None,
                   profile=None, profile_key: str | None = None) -> Interval:
    """The interval in months for a drill duty, with what it rests on."""
    if tier_duty:
        duty = next((d for d in cat.tier_schedule.duties if d.id == tier_duty), None)
        if duty is None:
            raise ValueError(f"unknown tier duty {tier_duty}")
        view = duty_view(duty, tier, cat)
        if tier is not None and tier not in view.tiers:
            return Interval(None, False, f"tier duty {duty.id} binds tiers {list(view.tiers)} only",
                            f"分級表之{view.name}僅適用第 {','.join(map(str, view.tiers))} 級", False, view.tiers)
        if view.frequency_months:
            return Interval(view.frequency_months, False, f"tier duty {duty.id}, tier {tier}",
                            f"分級表{view.name}，第 {tier} 級", True, view.tiers)
    rec = next((d for d in cat.recurring.duties if d.id == recurring), None)
    if rec is None:
        raise ValueError(f"unknown recurring duty {recurring}")
    own = getattr(profile, "assumed_intervals", {}).get(profile_key) if profile_key else None
    if rec.assumed and own:
        return Interval(int(own), False, f"the broker's own interval (profile assumed_intervals {profile_key})",
                        f"證券商自訂週期（assumed_intervals {profile_key}）")
    return Interval(rec.every_months, bool(rec.assumed), f"recurring.yaml {rec.id}",
                    f"recurring.yaml {rec.id}{'（假設：條文僅稱「定期」）' if rec.assumed else ''}")
