"""Sample report data (plain structures, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from ccinspect.reports import (
    EvidenceRow,
    FindingRow,
    InspectionReport,
    ItemRow,
    Signatory,
    SignOff,
    Statement,
    StatementChapter,
    TrackingList,
)

TPE = ZoneInfo("Asia/Taipei")
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def findings() -> list[FindingRow]:
    return [
        FindingRow(id="F-7", ref_id="CC-18000.3.f", title="密碼最小長度不足", severity="high",
                   deduction_points=Decimal("5"), status="in_progress", due_date=dt.date(2025, 7, 31),
                   owner="陳怡君", remediation_plan="將密碼最小長度調整為 10 碼", overdue=True,
                   broker="示範證券股份有限公司", inspection="帳號密碼管理 2025-05", period="2025-05-01 – 2025-05-31",
                   raised_at=dt.datetime(2025, 6, 3, 1, 30, tzinfo=dt.UTC), last_note="開始改善",
                   description="AD 密碼原則最小長度為 6 碼"),
        FindingRow(id="F-8", ref_id="CC-18000.3.e", title="Lockout threshold too high", severity="low",
                   deduction_points=Decimal("1.5"), status="closed", due_date=dt.date(2025, 8, 31),
                   owner="Chen", closed_at=dt.datetime(2025, 6, 10, 16, 5, tzinfo=dt.UTC),
                   broker="示範證券股份有限公司"),
    ]


def report() -> InspectionReport:
    items = [
        ItemRow(ref_id="CC-18000.3", chapter="CC-18000", text="使用者密碼管理", text_en="User passwords",
                assessable=False, depth=1),
        ItemRow(ref_id="CC-18000.3.e", chapter="CC-18000", text="連續登入失敗三次應鎖定帳號。",
                text_en="Lock the account after three failures.", depth=2, result="compliant",
                notes="GPO 已設定", automated_status="pass"),
        ItemRow(ref_id="CC-18000.3.f", chapter="CC-18000", text="密碼長度至少六碼並定期更換。",
                text_en="Passwords of at least six characters, changed regularly.", depth=2, result="deficient",
                notes="密碼長度設定不足"),
        ItemRow(ref_id="CC-18000.4", chapter="CC-18000", text="遠端連線應採多因子驗證。",
                text_en="Remote access uses MFA.", depth=1, result="not_applicable", na_reason="本公司無遠端連線"),
    ]
    return InspectionReport(
        broker="示範證券股份有限公司", tier=2, title="存取控制 2025-05", title_en="Access control 2025-05",
        period_start=dt.date(2025, 5, 1), period_end=dt.date(2025, 5, 31), as_of=dt.date(2025, 5, 31),
        due=dt.date(2025, 5, 31), framework_version="2020-12-11", status="signed_off", items=items,
        evidence=[EvidenceRow(ref_id="CC-18000.3.f", name="密碼原則截圖.png", sha256=SHA, size=2048,
                              uploaded_by="陳怡君", uploaded_at=dt.datetime(2025, 6, 1, 16, 30, tzinfo=dt.UTC))],
        findings=findings()[:1],
        signoffs=[SignOff(role="prepared", name="陳怡君", title="資安專責人員",
                          at=dt.datetime(2025, 6, 1, 2, 0, tzinfo=dt.UTC)),
                  SignOff(role="signed_off", name="王建國", title="電腦稽核主管",
                          at=dt.datetime(2025, 6, 5, 8, 0, tzinfo=dt.UTC), note="覆核完成")],
        generated_at=dt.datetime(2025, 6, 15, 9, 0, tzinfo=TPE))


def tracking() -> TrackingList:
    return TrackingList(scope="示範證券股份有限公司", findings=findings(), as_of=dt.date(2025, 8, 15),
                        generated_at=dt.datetime(2025, 8, 15, 9, 0, tzinfo=TPE))


def statement(**kw) -> Statement:
    args = dict(
        broker="示範證券股份有限公司", fiscal_year_start=dt.date(2024, 1, 1), fiscal_year_end=dt.date(2024, 12, 31),
        signatories=[Signatory("ciso", "李資安", "資訊安全長"), Signatory("chairman", "張董事"),
                     Signatory("president", "林總經理"), Signatory("chief_auditor", "王稽核")],
        chapters=[StatementChapter("CC-18000", "存取控制", 12, 12, 400, 380, 20, 18),
                  StatementChapter("CC-20000", "營運持續管理", 2, 2, 16, 16, 0, 0)],
        board_approval_date=dt.date(2025, 3, 12), open_findings=2, overdue_findings=1, incidents=3,
        incidents_reported_on_time=2)
    args.update(kw)
    return Statement(**args)
