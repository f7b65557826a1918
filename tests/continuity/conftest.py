"""A register with no gaps on AS_OF, for the table-driven rule tests to break one thing at a time."""

from __future__ import annotations

import datetime as dt

import pytest

from ccinspect.applicability import profile_from_mapping
from ccinspect.continuity import Register

AS_OF = dt.date(2025, 6, 30)


def clean_data() -> dict:
    return {
        "systems": [
            {"id": "TRD", "name": "交易主機", "owner": "資訊部", "functions": ["下單"], "trading_host": True,
             "major_impact": True},
            {"id": "MID", "name": "中台", "owner": "資訊部", "major_impact": True},
            {"id": "RPT", "name": "報表", "owner": "稽核室", "outsourced_provider": "ACME", "provider_plan_months": 12},
        ],
        "impact_analyses": [
            {"id": f"BIA-{s}", "system": s, "date": "2025-02-01", "tolerable_minutes": 60, "rto_minutes": 30,
             "rpo_minutes": 5, "approver": "資訊長"} for s in ("TRD", "MID", "RPT")
        ],
        "fallback_plans": [
            {"id": f"FB-{m}", "moment": str(m), "business_unit": "經紀業務部", "procedure": "人工委託"}
            for m in range(1, 6)
        ],
        "dr_coverage": [
            {"system": "TRD", "site": "台中", "since": "2020-01-01"},
            {"system": "MID", "site": "台中", "since": "2024-01-01"},
        ],
        "drills": [
            {"id": "BCP-1", "kind": "bcp", "date": "2025-04-01", "scenario": "停電", "systems": ["TRD", "MID", "RPT"],
             "target_rto_minutes": 30, "achieved_rto_minutes": 20, "target_rpo_minutes": 5,
             "achieved_rpo_minutes": 0, "result": "passed", "review_meeting_on": "2025-04-08"},
            {"id": "DDOS-1", "kind": "ddos", "date": "2025-03-01", "scenario": "流量攻擊", "systems": ["TRD"],
             "third_party_involved": True, "vendors_invited": ["ISP"], "result": "passed"},
            {"id": "FRT-1", "kind": "fault_recovery", "date": "2025-02-15", "scenario": "主備切換",
             "systems": ["TRD"], "target_rto_minutes": 15, "achieved_rto_minutes": 10, "result": "passed",
             "review_meeting_on": "2025-02-20"},
        ],
        "risk_scenarios": [
            {"id": f"RS-{s}", "system": s, "scenario": "機房停電", "response": "切換備援", "reviewed_on": "2025-02-01"}
            for s in ("TRD", "MID", "RPT")
        ],
        "provider_plans": [
            {"id": "PP-1", "system": "RPT", "provider": "ACME", "form": "dr_plan", "received_on": "2025-01-15"},
        ],
    }


def profile(**kw):
    base = {"name": "測試證券", "capital": "60億", "internet_orders": True, "securities_brokerage": True,
            "brokerage_market_share": 1.5, "natural_person_client_ratio": 80}
    return profile_from_mapping(base | kw)


@pytest.fixture
def data() -> dict:
    return clean_data()


def register(data: dict) -> Register:
    return Register.model_validate(data)
