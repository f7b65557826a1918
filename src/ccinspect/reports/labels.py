"""Report wording in Traditional Chinese (the default) and English."""

from __future__ import annotations

L: dict[str, tuple[str, str]] = {
    "report": ("資通安全檢查報告", "Cybersecurity inspection report"),
    "scope": ("檢查範圍", "Scope"),
    "broker": ("證券商", "Broker"),
    "tier": ("資安分級", "Tier"),
    "inspection": ("檢查項目單元", "Inspection"),
    "period": ("檢查期間", "Period"),
    "as_of": ("適用基準日", "As of"),
    "due": ("應完成日", "Due"),
    "framework": ("規範版本", "Framework version"),
    "status": ("狀態", "Status"),
    "generated": ("產出時間", "Generated"),
    "summary": ("檢查結果摘要", "Summary"),
    "checklist": ("檢查項目及結果", "Checklist and results"),
    "requirement": ("檢查項目", "Requirement"),
    "result": ("結果", "Result"),
    "notes": ("說明", "Notes"),
    "automated": ("自動檢查", "Automated check"),
    "evidence": ("佐證資料", "Evidence"),
    "file": ("檔案", "File"),
    "kind": ("類別", "Kind"),
    "size": ("大小（位元組）", "Size (bytes)"),
    "uploaded": ("上傳", "Uploaded"),
    "supersedes": ("取代", "Supersedes"),
    "findings": ("缺失及改善情形", "Findings and remediation"),
    "finding": ("缺失", "Finding"),
    "severity": ("嚴重度", "Severity"),
    "points": ("扣分", "Points"),
    "owner": ("負責人", "Owner"),
    "due_date": ("改善期限", "Due date"),
    "plan": ("改善計畫", "Remediation plan"),
    "closed_at": ("結案日", "Closed"),
    "overdue": ("逾期", "Overdue"),
    "signoffs": ("簽核", "Sign-offs"),
    "role": ("角色", "Role"),
    "name": ("姓名", "Name"),
    "title": ("職稱", "Title"),
    "at": ("時間", "When"),
    "note": ("意見", "Note"),
    "none": ("無", "None"),
    "total_points": ("扣分合計", "Total deduction points"),
    "page": ("第 {n} 頁", "Page {n}"),
    "tracking": ("缺失改善追蹤表", "Deficiency and remediation tracking list"),
    "tracking_basis": ("依 CC-21000.2 辦理查核報告之追蹤改善（含查核摘要、查核範圍、缺失說明及改進建議）",
                       "Follow-up of the inspection reports' deficiencies under CC-21000.2 (audit summary, "
                       "scope, deficiencies and recommendations)"),
    "id": ("編號", "ID"),
    "raised": ("開立日", "Raised"),
    "last_note": ("最新進度", "Latest progress"),
    "description": ("缺失說明", "Description"),
    "info": ("說明", "Info"),
    "as_of_date": ("資料基準日", "As of"),
    "count": ("筆數", "Count"),
    "draft": ("草稿", "DRAFT"),
}

RESULTS = {"compliant": ("符合", "Compliant"), "deficient": ("缺失", "Deficient"),
           "not_applicable": ("不適用", "Not applicable"), "not_assessed": ("未評估", "Not assessed")}
STATUS = {"in_progress": ("進行中", "In progress"), "submitted": ("已送覆核", "Submitted for review"),
          "signed_off": ("已覆核簽核", "Signed off"), "open": ("未處理", "Open"),
          "ready_for_retest": ("待複查", "Ready for retest"), "closed": ("已結案", "Closed")}
SEVERITY = {"low": ("輕微", "Low"), "medium": ("一般", "Medium"), "high": ("重大", "High"),
            "critical": ("嚴重", "Critical")}
KINDS = {"upload": ("上傳", "Upload"), "retest": ("複查佐證", "Retest evidence"),
         "automated": ("自動檢查結果", "Automated check result")}
SIGNOFF_ROLES = {"prepared": ("建立", "Prepared"), "submitted": ("送覆核", "Submitted"),
                 "signed_off": ("覆核簽核", "Signed off"), "returned": ("退回修正", "Returned for rework")}
SIGNATORIES = {"ciso": ("資訊安全最高主管", "Most senior information security officer"),
               "chairman": ("董事長", "Chairman"), "president": ("總經理", "President"),
               "chief_auditor": ("稽核主管", "Chief auditor")}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str) -> str:
    return pick(L[key], lang)


def of(table: dict, key: str, lang: str) -> str:
    pair = table.get(key)
    return pick(pair, lang) if pair else key
