"""Reports: the inspection report (HTML, PDF, XLSX), the deficiency and remediation tracking list (XLSX,
CC-21000.2) and the draft annual information-security statement (資訊安全整體執行情形聲明書, CC-12000.6).

Inputs are plain data structures (`model.py`), so the CLI and the web application share them; the web
builds them from its database (`ccinspect.web.reporting.data`)."""

from .model import (
    EvidenceRow,
    FindingRow,
    InspectionReport,
    ItemRow,
    ReportError,
    Signatory,
    SignOff,
    Statement,
    StatementChapter,
    TrackingList,
    disclosure_deadline,
)
from .render import inspection_html, inspection_xlsx, pdf_from_html, statement_html, tracking_xlsx

__all__ = [
    "EvidenceRow", "FindingRow", "InspectionReport", "ItemRow", "ReportError", "SignOff", "Signatory",
    "Statement", "StatementChapter", "TrackingList", "disclosure_deadline", "inspection_html", "inspection_xlsx",
    "pdf_from_html", "statement_html", "tracking_xlsx",
]
