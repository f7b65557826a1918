"""Outputs of a scan: JSON, CSV, a daily HTML report with charts, and the run record.

The HTML report embeds plotly.js from the installed package: the tool runs offline.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import platform
from datetime import datetime
from pathlib import Path

from ..core.files import atomic_dir
from ..core.safe_cells import csv_row
from .adapters import Source
from .engine import TAIPEI, ScanResult
from .rules import RuleSet

ALERT_COLUMNS = ["id", "kind", "severity", "rule", "ips", "accounts", "first", "last", "counts", "thresholds", "ref_ids", "detail",
                 "confidence", "confidence_reason", "evidence_total", "evidence"]


def _refs(evidence: list[dict]) -> str:
    """Events as `file:line` references, for the CSVs."""
    return ";".join(f"{e['file']}:{e['line']}" for e in evidence)


def to_json_obj(result: ScanResult, rules: RuleSet) -> dict:
    return {
        "tool": "ccinspect logins scan",
        "rules": {"version": rules.version, "sha256": rules.sha256, "source": rules.source},
        "summary": result.summary,
        "alerts": [a.as_dict() for a in result.alerts],
        "notifications": [n.as_dict() for n in result.notifications],
        # Below the broker's notify confidence (rules: notifications.min_confidence), for the analyst.
        "notifications_withheld": [n.as_dict() for n in result.withheld],
        "inspection_facts": result.facts,
        "partial": result.problems.partial,
        "accounting": result.problems.inputs(),  # per input file: what it gave, what was lost and why
        "malformed": {
            "count": result.problems.count,
            "by_file": dict(result.problems.by_file),
            "samples": [p.as_dict() for p in result.problems.samples],
        },
    }


def to_json(result: ScanResult, rules: RuleSet) -> str:
    return json.dumps(to_json_obj(result, rules), ensure_ascii=False, indent=2)


def alerts_csv(result: ScanResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ALERT_COLUMNS)
    for a in result.alerts:
        d = a.as_dict()
        d["evidence"] = _refs(a.evidence)
        w.writerow(csv_row([
            ";".join(v) if isinstance(v, list) else json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v
            for v in (d[c] for c in ALERT_COLUMNS)
        ]))
    return buf.getvalue()


def notifications_csv(result: ScanResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["account", "kind", "reason", "ips", "first", "last", "confidence", "confidence_reason", "alerts",
                "evidence"])
    for n in result.notifications:
        w.writerow(csv_row([n.account, n.kind, n.reason, ";".join(n.ips), n.first, n.last, n.confidence,
                            n.confidence_reason, ";".join(n.alerts), _refs(n.evidence)]))
    return buf.getvalue()


def malformed_csv(result: ScanResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "line", "field", "error"])
    for p in result.problems.samples:
        w.writerow(csv_row([p.file, p.line, p.field, p.message]))
    return buf.getvalue()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def run_record(
    result: ScanResult,
    rules: RuleSet,
    sources: list[Source],
    *,
    started: datetime,
    finished: datetime,
    hashes: dict[str, str],
    args: dict,
) -> dict:
    """What ran, on what, with which rules: kept with the outputs for the retention period."""
    from .. import __version__ as version  # noqa: PLC0415

    keep_until = started.replace(year=started.year + rules.retention_years)
    return {
        "tool": "ccinspect logins scan",
        "version": version,
        "python": platform.python_version(),
        "started": started.isoformat(),
        "finished": finished.isoformat(),
        "duration_seconds": round((finished - started).total_seconds(), 3),
        "inputs": [
            {"file": str(s.origin), "format": s.fmt, "bytes": s.origin.stat().st_size,
             "sha256": hashes.get(str(s.origin)), "events": s.events, "ignored_lines": s.ignored,
             "malformed": result.problems.by_file.get(str(s.origin), 0) + result.problems.by_file.get(str(s.path), 0)}
            for s in sources if s.account is not None
        ],
        "accounting": result.problems.inputs(),
        "partial": result.problems.partial,
        "arguments": args,
        "rules": {"version": rules.version, "sha256": rules.sha256, "source": rules.source},
        "counts": {k: result.summary[k] for k in ("events", "valid_events", "failures", "successes", "malformed",
                                                    "alerts", "notifications")},
        "alerts_by_kind": result.summary["alerts_by_kind"],
        "retention": {"years": rules.retention_years, "keep_until": keep_until.date().isoformat(),
                      "ref_ids": rules.run_ref_ids.get("retention", [])},
        "review_ref_ids": rules.run_ref_ids.get("review", []),
    }


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs  # noqa: PLC0415

    return get_plotlyjs()


def _figures(result: ScanResult) -> list[tuple[str, str]]:
    import plotly.graph_objects as go  # noqa: PLC0415

    figs = []
    tl = result.charts.get("failures_timeline", [])
    if tl:
        f = go.Figure()
        f.add_bar(x=[t for t, _, _ in tl], y=[n - a for _, n, a in tl], name="other failures")
        f.add_bar(x=[t for t, _, _ in tl], y=[a for _, _, a in tl], name="from alerted addresses")
        f.update_layout(barmode="stack", title="Failed logins per 10 minutes", height=360, margin={"t": 40})
        figs.append(("timeline", f.to_html(full_html=False, include_plotlyjs=False)))
    top = result.charts.get("top_addresses", [])
    if top:
        f = go.Figure()
        f.add_bar(y=[t["ip"] for t in top][::-1], x=[t["failures"] for t in top][::-1], orientation="h", name="failures",
                  marker_color=["#c0392b" if t["alerted"] else "#7f8c8d" for t in top][::-1])
        f.add_bar(y=[t["ip"] for t in top][::-1], x=[t["successes"] for t in top][::-1], orientation="h", name="successes",
                  marker_color="#27ae60")
        f.update_layout(barmode="group", title="Top addresses by failed logins (red: alerted)", height=520, margin={"t": 40})
        figs.append(("top", f.to_html(full_html=False, include_plotlyjs=False)))
    for sp in result.charts.get("campaign_spread", []):
        pts = sp["points"]
        cum, tot = [], 0
        for _, n, _ in pts:
            tot += n
            cum.append(tot)
        f = go.Figure()
        f.add_bar(x=[t for t, _, _ in pts], y=[n for _, n, _ in pts], name="new addresses per 5 min")
        f.add_scatter(x=[t for t, _, _ in pts], y=cum, name="addresses so far", yaxis="y2")
        f.update_layout(title=f"Campaign {sp['alert']}: spread over addresses", height=360, margin={"t": 40},
                        yaxis2={"overlaying": "y", "side": "right"})
        figs.append((f"campaign-{sp['alert']}", f.to_html(full_html=False, include_plotlyjs=False)))
    return figs


def to_html(result: ScanResult, rules: RuleSet, record: dict | None = None) -> str:
    s = result.summary
    e = html.escape
    rows = "".join(
        f"<tr class='{e(a.severity)}'><td>{e(a.id)}</td><td>{e(a.severity)}</td><td>{e(a.kind)}</td>"
        f"<td>{e(', '.join(a.ips[:5]))}{' …(' + str(len(a.ips)) + ')' if len(a.ips) > 5 else ''}</td>"
        f"<td>{e(', '.join(a.accounts[:5]))}{' …(' + str(len(a.accounts)) + ')' if len(a.accounts) > 5 else ''}</td>"
        f"<td>{e(a.first or '')}</td><td>{e(a.last or '')}</td><td>{e(a.detail)}</td><td>{e(', '.join(a.ref_ids))}</td>"
        f"<td>{e(a.confidence)}: {e(a.confidence_reason)}</td><td><code>{e(_refs(a.evidence[:3]))}</code>"
        f"{' …(' + str(a.evidence_total) + ')' if a.evidence_total > 3 else ''}</td></tr>"
        for a in result.alerts
    )
    notes = "".join(
        f"<tr><td>{e(n.account)}</td><td>{e(n.kind)}</td><td>{e(n.reason)}</td><td>{e(n.confidence)}: "
        f"{e(n.confidence_reason)}</td><td>{e(', '.join(n.alerts))}</td></tr>" for n in result.notifications
    )
    facts = "".join(
        f"<tr><td>{e(f['system'])}</td><td>{e(', '.join(f['ref_ids']))}</td><td>{e(f['finding'])}</td></tr>"
        for f in result.facts
    )
    bad = "".join(
        f"<tr><td>{e(p.file)}</td><td>{e(str(p.line))}</td><td>{e(p.field)}</td><td>{e(p.message)}</td></tr>"
        for p in result.problems.samples[:200]
    )
    stats = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in s.items() if not isinstance(v, dict))
    charts = "".join(f"<section id='{e(k)}'>{h}</section>" for k, h in _figures(result))
    inputs = ""
    if record:
        inputs = "".join(
            f"<tr><td>{e(i['file'])}</td><td>{e(i['format'])}</td><td><code>{e(i['sha256'] or '')}</code></td></tr>"
            for i in record["inputs"]
        )
    accounting = "".join(
        f"<tr class='{'high' if a['status'] in ('partial', 'unreadable') else ''}'><td>{e(a['file'])}</td>"
        f"<td>{e(a['format'])}</td><td>{e(a['status'])}</td><td>{a['lines']:,}</td><td>{a['events']:,}</td>"
        f"<td>{e(', '.join(f'{k} {v:,}' for k, v in a['not_login'].items()))}</td><td>{a['malformed']:,}</td>"
        f"<td>{a['damaged']:,}</td><td>{e('; '.join(a['warnings']) or (a.get('error') or {}).get('message', ''))}</td></tr>"
        for a in result.problems.inputs()
    )
    generated = datetime.now(TAIPEI).isoformat(timespec="seconds")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Login monitoring {e(s.get('first') or '')[:10]}</title>
<script>{_plotly_js()}</script>
<style>
body{{font-family:system-ui,"Noto Sans CJK TC",sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #ccc;padding:.25em .5em;font-size:.9em;text-align:left}}
tr.critical td{{background:#fdecea}}tr.high td{{background:#fff4e5}}code{{font-size:.8em}}
</style></head><body>
<h1>Daily login monitoring (每日帳號登入監控)</h1>
<p>Period {e(s.get('first') or '-')} to {e(s.get('last') or '-')}; rules {e(rules.version)}
(<code>{e(rules.sha256[:12])}</code>); generated {e(generated)}.
Serves {e(', '.join(rules.run_ref_ids.get('review', [])))} (regular review of audit records).</p>
<h2>Alerts ({len(result.alerts)})</h2>
<table><tr><th>id</th><th>severity</th><th>kind</th><th>addresses</th><th>accounts</th><th>first</th><th>last</th><th>detail</th><th>ref_ids</th><th>confidence</th><th>events</th></tr>{rows}</table>
<h2>Customers to ask to confirm a login ({len(result.notifications)})</h2>
<table><tr><th>account</th><th>why</th><th>message</th><th>confidence</th><th>alerts</th></tr>{notes}</table>
<h2>Inspection facts about the systems ({len(result.facts)})</h2>
<table><tr><th>system (log)</th><th>ref_ids</th><th>finding</th></tr>{facts}</table>
<h2>Charts</h2>{charts}
<h2>Counts</h2><table>{stats}</table>
<h2>Every line of every input (每個輸入檔的逐行交代)</h2>
<table><tr><th>file</th><th>format</th><th>status</th><th>lines</th><th>events</th><th>not a login event</th><th>malformed</th><th>damaged</th><th>warnings</th></tr>{accounting}</table>
<h2>Malformed input ({result.problems.count})</h2>
<table><tr><th>file</th><th>line</th><th>field</th><th>error</th></tr>{bad}</table>
<h2>Inputs</h2><table><tr><th>file</th><th>format</th><th>SHA-256</th></tr>{inputs}</table>
</body></html>"""


def write_outputs(out_dir: Path, result: ScanResult, rules: RuleSet, record: dict) -> dict[str, Path]:
    """alerts.json, alerts.csv, notifications.csv, malformed.csv, report.html and run.json, written in a
    temporary folder that replaces `out_dir` in one rename: a crash leaves the previous run's set whole."""
    names = {"json": "alerts.json", "alerts_csv": "alerts.csv", "notifications_csv": "notifications.csv",
             "malformed_csv": "malformed.csv", "html": "report.html", "run": "run.json"}
    with atomic_dir(out_dir, keep_others=True) as tmp:
        files = {k: tmp / n for k, n in names.items()}
        files["json"].write_text(to_json(result, rules), encoding="utf-8")
        files["alerts_csv"].write_text(alerts_csv(result), encoding="utf-8")
        files["notifications_csv"].write_text(notifications_csv(result), encoding="utf-8")
        files["malformed_csv"].write_text(malformed_csv(result), encoding="utf-8")
        files["html"].write_text(to_html(result, rules, record), encoding="utf-8")
        # The record names the other outputs with their digests, so tampering shows.
        record = dict(record, outputs={k: {"file": p.name, "sha256": sha256_file(p)} for k, p in files.items()
                                       if k != "run"})
        files["run"].write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    return {k: out_dir / n for k, n in names.items()}
