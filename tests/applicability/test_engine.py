"""The applicability engine, table-driven over broker profiles, tiers and dates."""

from __future__ import annotations

import datetime as dt

import pytest

from ccinspect.applicability import ProfileError, evaluate, profile_from_mapping, tier_for_capital

D = dt.date
TODAY = D(2026, 11, 24)


def broker(capital, **kw):
    base = {"name": "t", "capital": capital, "internet_orders": True, "securities_brokerage": True}
    return profile_from_mapping(base | kw)


def states(res) -> dict[str, str]:
    out = {e.ref_id: "applicable" for e in res.applicable}
    out |= {e.ref_id: "not" for e in res.not_applicable}
    for e in res.upcoming:
        out.setdefault(e.ref_id, "upcoming")
    return out


@pytest.mark.parametrize("capital,tier", [
    (30_000_000_000, 1), (20_000_000_000, 1), (19_999_999_999, 2), (10_000_000_000, 2),
    (9_999_999_999, 3), (4_000_000_000, 3), (3_999_999_999, 4), (1, 4), ("200億", 1), ("40億", 3),
])
def test_tier_boundaries(capital, tier):
    assert evaluate(broker(capital), TODAY).tier == tier
    if isinstance(capital, int):
        assert tier_for_capital(capital) == tier


@pytest.mark.parametrize("capital", [0, "0", "0億", "", None, "  "])
def test_no_capital_is_an_error_never_tier_4(capital):
    with pytest.raises(ProfileError, match="capital.*未填實收資本額.*no paid-in or allocated operating capital"):
        broker(capital)
    with pytest.raises(ProfileError, match="capital.*no paid-in"):
        profile_from_mapping({"name": "t"})


def test_tier_override_binds_with_its_reason():
    res = evaluate(broker("30億", tier_override=2, tier_override_reason="董事會決議比照第二級"), TODAY)
    assert res.tier == 2 and broker("30億").capital == 3_000_000_000
    with pytest.raises(ProfileError, match="tier_override_reason.*needs its reason"):
        broker("30億", tier_override=2)
    with pytest.raises(ProfileError, match="tier_override.*1, 2, 3 or 4"):
        broker("30億", tier_override=5, tier_override_reason="x")


CASES = [
    # (description, capital, profile overrides, as_of, {ref_id: expected state})
    ("tier-4 internet broker", 2_000_000_000, {}, D(2024, 6, 30), {
        "CC-11000.4": "applicable", "CC-14000.3": "applicable", "CC-17010.i.a": "not", "CC-17010.i": "not",
        "CC-12000.8": "not", "CC-13000.6": "not", "CC-18000.3.e": "applicable", "CC-19000.9": "applicable"}),
    ("tier-1 before any tiered date", 30_000_000_000, {}, D(2021, 12, 31), {
        "CC-17010.i.a": "upcoming", "CC-17010.i": "upcoming", "CC-12000.8": "upcoming",
        "CC-14000.3": "upcoming", "CC-13000.6": "upcoming", "CC-17010.a.a": "applicable"}),
    ("tier-1 on the first effective date", 30_000_000_000, {}, D(2022, 1, 31), {
        "CC-17010.i.a": "applicable", "CC-17010.i.b": "upcoming", "CC-12000.8": "applicable",
        "CC-14000.3": "applicable", "CC-13000.6": "upcoming"}),
    ("tier-1 after the second effective date", 30_000_000_000, {}, D(2023, 2, 1), {
        "CC-17010.i.b": "applicable", "CC-17010.i.f": "applicable", "CC-13000.6": "applicable"}),
    ("tier-3 today", 5_000_000_000, {}, TODAY, {
        "CC-17010.i.a": "applicable", "CC-17010.i.b": "applicable", "CC-17010.i.c": "applicable",
        "CC-17010.i.d": "not", "CC-17010.i.e": "not", "CC-17010.i.f": "not", "CC-12000.8": "applicable",
        "CC-13000.6": "applicable"}),
    ("tier-2 today", 15_000_000_000, {}, TODAY, {
        "CC-17010.i.d": "applicable", "CC-17010.i.e": "applicable", "CC-17010.i.f": "applicable"}),
    ("voice-only broker", 30_000_000_000, {"internet_orders": False, "voice_orders": True}, TODAY, {
        "CC-11000": "not", "CC-11000.1": "not", "CC-17010": "applicable", "CC-17010.a.a": "applicable",
        "CC-17010.b.c": "applicable", "CC-17010.e.a": "applicable", "CC-17010.c": "not",
        "CC-17010.i.a": "not", "CC-14000.2": "not", "CC-15000.5": "not", "CC-19000.9": "not",
        "CC-19000.10": "not", "CC-18000.3.e": "applicable", "CC-12000.8": "applicable"}),
    ("not a brokerage", 5_000_000_000, {"securities_brokerage": False}, TODAY, {
        "CC-17020.e": "not", "CC-17020.f": "not", "CC-20000.3": "not", "CC-17020.a": "applicable"}),
    ("no cloud, no IoT, no app", 5_000_000_000, {}, TODAY, {
        "CC-21100.1": "not", "CC-21100.1.a": "not", "CC-21100.4": "not", "CC-21100.4.a": "not",
        "CC-19000.11": "not", "CC-21100.3.a": "applicable", "CC-18000.5.d": "not"}),
    ("cloud user with IoT, app and listing", 5_000_000_000,
     {"cloud_user": True, "iot_devices": True, "mobile_app": True, "public_company": True}, TODAY, {
        "CC-21100.1": "applicable", "CC-21100.1.a": "applicable", "CC-21100.1.b": "not",
        "CC-21100.4.a": "applicable", "CC-19000.11.c.a": "applicable", "CC-18000.5.d": "applicable"}),
]


@pytest.mark.parametrize("desc,capital,over,as_of,expected", CASES, ids=[c[0] for c in CASES])
def test_applicability_table(desc, capital, over, as_of, expected):
    st = states(evaluate(broker(capital, **over), as_of))
    got = {k: st[k] for k in expected}
    assert got == expected


def test_every_requirement_is_placed_exactly_once():
    res = evaluate(broker(5_000_000_000), TODAY)
    a = {e.ref_id for e in res.applicable}
    n = {e.ref_id for e in res.not_applicable}
    u = {e.ref_id for e in res.upcoming if not e.milestones or e.ref_id not in a}
    assert not (a & n) and not (a & u) and not (n & u)
    from ccinspect.catalog import load_catalog

    assert a | n | u == {r.ref_id for r in load_catalog().version("mechanism").requirements}


def test_reasons_say_why():
    res = evaluate(broker(2_000_000_000, internet_orders=False), TODAY)
    na = {e.ref_id: e for e in res.not_applicable}
    assert "internet-order brokers only" in na["CC-11000.1"].reason_en
    assert "網際網路下單" in na["CC-11000.1"].reason
    tier4 = {e.ref_id: e for e in evaluate(broker(2_000_000_000), TODAY).not_applicable}
    assert "tiers 1–3 only" in tier4["CC-17010.i.a"].reason_en
    assert "tiers 1–2 only" in tier4["CC-17010.i.d"].reason_en
    up = {e.ref_id: e for e in evaluate(broker(30_000_000_000), D(2022, 6, 1)).upcoming}
    assert up["CC-17010.i.b"].effective_from == D(2023, 1, 31)
    assert "2023-01-31 (112/01/31)" in up["CC-17010.i.b"].reason_en


def test_isms_certification_is_a_milestone_for_tiers_1_and_2_only():
    t1 = evaluate(broker(30_000_000_000), D(2022, 6, 30))
    cert = [e for e in t1.upcoming if e.ref_id == "CC-12000.8"]
    assert len(cert) == 1 and cert[0].effective_from == D(2023, 1, 31)
    t3 = evaluate(broker(5_000_000_000), D(2022, 6, 30))
    assert "CC-12000.8" in t3.applicable_ids()
    assert not [e for e in t3.upcoming if e.ref_id == "CC-12000.8"]
    entry = next(e for e in t3.applicable if e.ref_id == "CC-12000.8")
    assert [m["binds_this_tier"] for m in entry.milestones] == [True, False]


def test_disagreeing_sources_can_be_chosen():
    # SOC: 001 binds tiers 1–2, 003 (later, governing by default) tiers 1–3.
    assert "CC-17010.i.c" in evaluate(broker(5_000_000_000), TODAY).applicable_ids()
    assert "CC-17010.i.c" not in evaluate(broker(5_000_000_000), TODAY, tier_source="001").applicable_ids()
    # APT: 001 tier 1, 003 tiers 1–2.
    assert "CC-17010.i.f" in evaluate(broker(15_000_000_000), TODAY).applicable_ids()
    assert "CC-17010.i.f" not in evaluate(broker(15_000_000_000), TODAY, tier_source="001").applicable_ids()


def test_duties_for_the_tier():
    t1 = {d.id: d for d in evaluate(broker(30_000_000_000), TODAY).duties}
    t4 = {d.id: d for d in evaluate(broker(1_000_000_000), TODAY).duties}
    hc1 = next(d for d in t1.values() if "CC-17010.i.b" in d.implements)
    assert hc1.frequency_months == 12
    assert not any("CC-17010.i.b" in d.implements for d in t4.values())
    assert any("CC-17010.e.a" in d.implements for d in t4.values())  # anti-virus binds every tier
    t2hc = next(d for d in evaluate(broker(15_000_000_000), TODAY).duties if "CC-17010.i.b" in d.implements)
    assert t2hc.frequency_months == 24


def test_text_in_force_follows_the_date():
    before = evaluate(broker(30_000_000_000), D(2019, 6, 30))
    assert before.version == "pre-2020"
    assert "CC-11000.4" not in states(before)
    assert evaluate(broker(30_000_000_000), D(2020, 12, 11)).version == "2020-12-11"


def test_json_shape():
    d = evaluate(broker(30_000_000_000), TODAY).to_dict()
    assert {"tier", "applicable", "not_applicable", "upcoming", "duties"} <= set(d)
    for key in ("applicable", "not_applicable", "upcoming"):
        assert all(isinstance(e, dict) and e["ref_id"] for e in d[key])
    assert all({"ref_id", "cadence", "reason"} <= set(e) for e in d["applicable"])


def test_profile_history_moves_the_tier_from_the_change_date():
    """A capital raise on 2025-07-01 (30億, tier 4, to 250億, tier 1): before it the old profile binds, from it
    the new; the calendar across the change is the old calendar before the date and the new one after."""
    from ccinspect.applicability import ProfileHistory
    from ccinspect.applicability.calendar import build_calendar

    old, new = broker("30億"), broker("250億", iot_devices=True)
    change = D(2025, 7, 1)
    h = ProfileHistory([(change, new), (D(2024, 1, 1), old)])
    assert h.at(D(2025, 6, 30)) is old and h.at(change) is new and h.at(D(2020, 1, 1)) is old
    start, end = D(2025, 1, 1), D(2026, 12, 31)
    both = build_calendar(h, start, end)
    before = [o for o in build_calendar(old, start, end) if o.due < change]
    after = [o for o in build_calendar(new, start, end) if o.due >= change]
    assert {o.id for o in both} == {o.id for o in before + after}
    assert {o.id for o in after} != {o.id for o in build_calendar(old, start, end) if o.due >= change}
    assert "duty:health-check:2025-12-31" in {o.id for o in both}  # tier 1: a health check every year
    assert evaluate(h.at(D(2025, 6, 30)), D(2025, 6, 30)).tier == 4 and evaluate(h.at(change), change).tier == 1
    with pytest.raises(ProfileError, match="same date"):
        ProfileHistory([(change, old), (change, new)])
