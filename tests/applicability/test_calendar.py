"""The inspection calendar: periodic inspections, dated duties, year boundaries and iCalendar output."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from icalendar import Calendar

from ccinspect.applicability import profile_from_mapping
from ccinspect.applicability.calendar import build_calendar, to_ics

D = dt.date


def broker(capital, **kw):
    return profile_from_mapping({"name": "t", "capital": capital, "internet_orders": True} | kw)


def inspections(items) -> Counter:
    return Counter(o.ref_ids[0] for o in items if o.kind == "inspection")


def duty_dates(items, duty_id) -> list[D]:
    return [o.due for o in items if o.kind == "duty" and o.id.startswith(f"duty:{duty_id}:")]


def test_a_year_of_inspections_for_an_internet_broker():
    items = build_calendar(broker(30_000_000_000), D(2025, 1, 1), D(2025, 12, 31))
    counts = inspections(items)
    assert counts["CC-17010"] == 12 and counts["CC-18000"] == 12  # monthly
    for semi in ("CC-14000", "CC-15000", "CC-16000", "CC-17020", "CC-19000", "CC-20000", "CC-21000", "CC-22000"):
        assert counts[semi] == 2, semi
    for annual in ("CC-11000", "CC-12000", "CC-13000", "CC-21100"):
        assert counts[annual] == 1, annual
    assert "CC-17000" not in counts  # chapter 7 is inspected through its two sub-chapters
    monthly_dues = sorted(o.due for o in items if o.kind == "inspection" and o.ref_ids == ("CC-18000",))
    assert monthly_dues[1] == D(2025, 2, 28) and monthly_dues[-1] == D(2025, 12, 31)
    assert items == sorted(items, key=lambda o: (o.due, o.kind, o.id))


def test_dated_duties():
    items = build_calendar(broker(30_000_000_000), D(2025, 1, 1), D(2025, 12, 31))
    assert duty_dates(items, "vulnerability-scan") == [D(2025, 6, 30), D(2025, 12, 31)]
    assert duty_dates(items, "dormant-account-review") == [D(2025, 6, 30), D(2025, 12, 31)]
    assert duty_dates(items, "firewall-rule-review") == [D(2025, 12, 31)]
    assert duty_dates(items, "annual-statement") == [D(2025, 3, 31)]  # three months after 12-31
    assert duty_dates(items, "health-check") == [D(2025, 12, 31)]  # tier 1: yearly
    assert duty_dates(items, "ddos-drill") == [D(2025, 12, 31)]  # amended internal-control CC-20000 (十一)
    assert duty_dates(items, "iot-inventory-update") == []  # no IoT devices in this profile
    pen = [o for o in items if o.id.startswith("duty:penetration-test:")]
    assert pen and all(o.assumed for o in pen)
    for o in items:
        assert o.ref_ids and o.title and o.title_en


def test_fiscal_year_end_moves_the_statement_deadline():
    items = build_calendar(broker(30_000_000_000, fiscal_year_end="06-30"), D(2025, 1, 1), D(2025, 12, 31))
    assert duty_dates(items, "annual-statement") == [D(2025, 9, 30)]
    # a mid-month year end keeps its day, as the statement draft's deadline does (one rule for both)
    from ccinspect.reports import disclosure_deadline

    items = build_calendar(broker(30_000_000_000, fiscal_year_end="03-15"), D(2025, 1, 1), D(2025, 12, 31))
    assert duty_dates(items, "annual-statement") == [D(2025, 6, 15)] == [disclosure_deadline(D(2025, 3, 15))]


def test_health_check_every_two_years_for_tier_2():
    b = broker(15_000_000_000)
    dues = duty_dates(build_calendar(b, D(2023, 1, 1), D(2028, 12, 31)), "health-check")
    assert dues == [D(2024, 12, 31), D(2026, 12, 31), D(2028, 12, 31)]
    assert duty_dates(build_calendar(broker(2_000_000_000), D(2023, 1, 1), D(2028, 12, 31)), "health-check") == []
    # Counted from the last one when the broker records it.
    b2 = broker(15_000_000_000, last_performed={"health-check": "2025-03-10"})
    assert duty_dates(build_calendar(b2, D(2025, 1, 1), D(2029, 12, 31)), "health-check") == [
        D(2027, 3, 10), D(2029, 3, 10)]


def test_across_a_year_boundary():
    items = build_calendar(broker(30_000_000_000), D(2025, 11, 1), D(2026, 2, 28))
    dues = sorted(o.due for o in items if o.kind == "inspection" and o.ref_ids == ("CC-18000",))
    assert dues == [D(2025, 11, 30), D(2025, 12, 31), D(2026, 1, 31), D(2026, 2, 28)]
    assert inspections(items)["CC-19000"] == 1  # 2025H2, due 2025-12-31
    assert duty_dates(items, "annual-statement") == []  # due 2026-03-31, outside the range
    assert any(o.period_end == D(2025, 12, 31) and o.period_start == D(2025, 7, 1) for o in items)


def test_voice_broker_calendar_omits_internet_only_work():
    items = build_calendar(broker(30_000_000_000, internet_orders=False, voice_orders=True),
                           D(2025, 1, 1), D(2025, 12, 31))
    counts = inspections(items)
    assert counts["CC-17010"] == 12  # items a, b and e bind every broker
    assert "CC-11000" not in counts
    assert duty_dates(items, "vulnerability-scan") == []


def test_effective_dates_gate_occurrences():
    items = build_calendar(broker(30_000_000_000), D(2021, 1, 1), D(2022, 12, 31))
    assert duty_dates(items, "system-classification-review") == [D(2022, 12, 31)]
    assert duty_dates(items, "health-check") == []  # effective 2023-01-31


def test_ics_is_valid_icalendar():
    b = broker(30_000_000_000)
    items = build_calendar(b, D(2025, 1, 1), D(2025, 12, 31))
    cal = Calendar.from_ical(to_ics(items, b))
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(items)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)
    first = events[0]
    assert isinstance(first.decoded("DTSTART"), dt.date)
    assert first.decoded("DTEND") - first.decoded("DTSTART") == dt.timedelta(days=1)
    assert "DTSTAMP" in first
    assert any("CC-19000.9" in str(e["DESCRIPTION"]) for e in events)
