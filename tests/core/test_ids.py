"""core.ids: one parser and one formatter per identifier, checked against every id the catalog and calendar make."""

from __future__ import annotations

import datetime as dt

import pytest

from ccinspect.applicability.calendar import build_calendar
from ccinspect.applicability.profile import profile_from_mapping
from ccinspect.core.errors import InputError
from ccinspect.core.ids import OccurrenceId, RequirementId, ref_key, within


def test_requirement_id_round_trip_and_parts():
    r = RequirementId.parse("CC-17010.i.c")
    assert (r.chapter, r.labels, str(r)) == ("CC-17010", ("i", "c"), "CC-17010.i.c")
    assert str(r.parent) == "CC-17010.i" and r.parent.parent.parent is None
    assert r.within("CC-17010") and r.within("CC-17010.i") and not r.within("CC-17010.i.b")
    assert str(RequirementId.parse("CC-20000.七")) == "CC-20000.七"

@pytest.mark.parametrize("bad", ["", "CC-1701", "cc-17010", "CC-17010.", "CC-17010..a", "CC-17010.A", "17010", None])
def test_bad_requirement_ids_are_refused_with_a_message_id(bad):
    assert not RequirementId.valid(bad)
    with pytest.raises(InputError) as exc:
        RequirementId.parse(bad, field="ref_id")
    assert exc.value.message_id == "id.requirement" and exc.value.field == "ref_id"
    assert "不是查核項目編號" in exc.value.text("zh-Hant")

def test_sort_key_orders_numbers_as_numbers():
    refs = ["CC-17010.10", "CC-17010.2", "CC-16000.1", "CC-17010.i", "CC-17010", "CC-17010.2.a"]
    assert sorted(refs, key=ref_key) == ["CC-16000.1", "CC-17010", "CC-17010.2", "CC-17010.2.a",
                                         "CC-17010.10", "CC-17010.i"]

def test_within_as_text():
    assert within("CC-17010.i.c", "CC-17010.i") and within("CC-17010", "CC-17010")
    assert not within("CC-170100", "CC-17010") and not within("CC-17010.ii", "CC-17010.i")

def test_every_calendar_occurrence_id_parses_back():
    prof = profile_from_mapping({"name": "t", "capital": 25_000_000_000, "internet_orders": True})
    items = build_calendar(prof, dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    assert {o.kind for o in items} == {"inspection", "duty"}
    for o in items:
        occ = OccurrenceId.parse(o.id)
        assert str(occ) == o.id and occ.kind == o.kind
        if o.kind == "inspection":
            assert occ.subject == o.ref_ids[0] and occ.cadence in {"monthly", "semiannual", "annual"}
            assert occ.year == o.period_end.year
        else:
            assert occ.cadence is None and occ.period == o.due.isoformat()
    monthly = OccurrenceId.inspection("CC-17010", "monthly", dt.date(2025, 3, 31))
    assert str(monthly) == "inspection:CC-17010:2025-03" and monthly.cadence == "monthly"
    assert str(OccurrenceId.inspection("CC-17020", "semiannual", dt.date(2025, 12, 31))) == "inspection:CC-17020:2025H2"
    assert OccurrenceId.parse("inspection:CC-18000:2025").cadence == "annual"

@pytest.mark.parametrize("bad", ["", "inspection:CC-17010", "inspection:CC-17010:2025-3", "duty:x:2025-02-30",
                                 "inspection:17010:2025", "other:CC-17010:2025", "inspection:CC-17010:2025H3"])
def test_bad_occurrence_ids_are_refused(bad):
    with pytest.raises(InputError) as exc:
        OccurrenceId.parse(bad)
    assert exc.value.message_id == "id.occurrence"
