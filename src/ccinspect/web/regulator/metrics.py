"""The regulator's numbers across all brokers (seed 003, 監理科技運用):

- the risk map: every broker by e-trading share (電子交易比重) and deficiency deduction points (查核缺失扣分) in a
  period, divided into risk blocks; the brokers in the high/high block need attention (需關懷);
- "cyber risk now" (資安風險現況): for each deficiency type (the requirement a finding is raised on), the share of
  inspected brokers with it, and its rise or fall since the previous period;
- "risk trends" (風險趨勢分析): deficiency counts and points by chapter over periods, for all tiers or one tier.

Periods are half-years ("2025H1"), by the end of the inspected period. Plain dicts, for the pages and the API.

Whose findings: the regulator's own (the approved inspections of web/oversight) by default, so a broker that
reports its deficiencies honestly does not look riskier than one that does not; the brokers' self-inspection
findings on request (`source`), and beside the regulator's wherever both are shown, each labelled. Until the
regulator has approved an inspection the default falls back to the self-reported findings, and says so."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from ccinspect.core.ids import RequirementId
from ccinspect.web.accounts.models import Organisation
from ccinspect.web.inspections import services as isvc
from ccinspect.web.inspections.models import Finding, Inspection
from ccinspect.web.oversight.models import Engagement, Observation

SHARE_THRESHOLD = 50.0  # % of trading done electronically
POINTS_THRESHOLD = 20.0  # deduction points in the period
BLOCKS = ("attention", "guidance", "watch", "normal")
REGULATOR, SELF = "regulator", "self_inspection"  # whose findings (Finding.SOURCES)
SOURCES = (REGULATOR, SELF)


def default_source() -> str:
    return REGULATOR if Engagement.objects.filter(status=Engagement.APPROVED).exists() else SELF


def source_of(value: str | None) -> str:
    return value if value in SOURCES else default_source()


def other(source: str) -> str:
    return SELF if source == REGULATOR else REGULATOR


def _findings(source: str):
    """The findings of a source and the prefix that reaches their inspected period and tier."""
    if source == REGULATOR:
        return Observation.objects.filter(engagement__status=Engagement.APPROVED), "engagement__"
    return Finding.objects.filter(source=Finding.SELF), "inspection__"


def _inspections(source: str):
    if source == REGULATOR:
        return Engagement.objects.filter(status=Engagement.APPROVED)
    return Inspection.objects.exclude(status=Inspection.IN_PROGRESS)


def period_of(d: dt.date) -> str:
    return f"{d.year}H{1 if d.month <= 6 else 2}"


def bounds(period: str) -> tuple[dt.date, dt.date]:
    try:
        year, half = int(period[:4]), period[4:]
        if half not in ("H1", "H2"):
            raise ValueError
    except ValueError:
        raise ValueError(f"{period!r} is not a half-year period such as 2025H1") from None
    return (dt.date(year, 1, 1), dt.date(year, 6, 30)) if half == "H1" else (dt.date(year, 7, 1), dt.date(year, 12, 31))


def previous(period: str) -> str:
    year, half = int(period[:4]), period[4:]
    return f"{year}H1" if half == "H2" else f"{year - 1}H2"


def periods_with_data(today: dt.date | None = None, source: str | None = None) -> list[str]:
    """The half-years that have ended and have submitted (self) or approved (regulator) inspections."""
    today = today or dt.date.today()
    ends = _inspections(source_of(source)).values_list("period_end", flat=True).distinct()
    return sorted(p for p in {period_of(d) for d in ends} if bounds(p)[1] < today)


def latest_period(source: str | None = None) -> str | None:
    ps = periods_with_data(source=source)
    return ps[-1] if ps else None


def _in(period: str, prefix: str = "") -> dict:
    start, end = bounds(period)
    return {f"{prefix}period_end__gte": start, f"{prefix}period_end__lte": end}


def brokers() -> list[Organisation]:
    return list(Organisation.objects.filter(kind=Organisation.BROKER).order_by("name"))


def _share(org: Organisation) -> float | None:
    v = (org.profile or {}).get("e_trading_share")
    try:
        return None if v in (None, "") else float(str(v).rstrip("%"))
    except ValueError:
        return None


def tier_of(org: Organisation, on: dt.date) -> int:
    try:
        return isvc.applicability(org, on).tier
    except Exception:  # noqa: BLE001 - a broken profile must not take the regulator's view down
        return 0


def block_of(share: float | None, points: float, share_threshold: float, points_threshold: float) -> str:
    high_share = (share or 0) >= share_threshold
    high_points = points >= points_threshold
    if high_points:
        return "attention" if high_share else "guidance"
    return "watch" if high_share else "normal"


def _points_by_broker(period: str, source: str) -> tuple[dict, dict]:
    qs, prefix = _findings(source)
    rows = qs.filter(**_in(period, prefix)).values("organisation_id").annotate(p=Sum("deduction_points"),
                                                                               n=Count("id"))
    return ({r["organisation_id"]: r["p"] for r in rows}, {r["organisation_id"]: r["n"] for r in rows})


def risk_map(period: str, share_threshold: float = SHARE_THRESHOLD, points_threshold: float = POINTS_THRESHOLD,
             tier: int | None = None, source: str | None = None) -> dict:
    """Placed by the chosen source's points; the other source's points ride along, labelled, never added."""
    source = source_of(source)
    start, end = bounds(period)
    pts, cnt = _points_by_broker(period, source)
    beside, beside_cnt = _points_by_broker(period, other(source))
    inspected = set(_inspections(source).filter(**_in(period)).values_list("organisation_id", flat=True))
    rows = []
    for org in brokers():
        t = tier_of(org, end)
        if tier and t != tier:
            continue
        share = _share(org)
        points = float(pts.get(org.pk) or Decimal(0))
        rows.append({"id": org.pk, "name": org.name, "tier": t, "e_trading_share": share, "points": points,
                     "findings": cnt.get(org.pk, 0), "inspected": org.pk in inspected,
                     "points_beside": float(beside.get(org.pk) or Decimal(0)), "findings_beside": beside_cnt.get(
                         org.pk, 0), "block": block_of(share, points, share_threshold, points_threshold)})
    attention = sorted((r for r in rows if r["block"] in ("attention", "guidance")),
                       key=lambda r: (r["block"] != "attention", -r["points"], -(r["e_trading_share"] or 0)))
    return {"period": period, "source": source, "beside": other(source), "start": start, "end": end,
            "share_threshold": share_threshold,
            "points_threshold": points_threshold, "brokers": rows, "attention": attention,
            "blocks": {b: sum(1 for r in rows if r["block"] == b) for b in BLOCKS}}


def _label(ref_id: str, lang: str) -> str:
    fv = isvc.catalog().version("mechanism")
    r = fv.get(ref_id)
    if r is None:
        return ref_id
    text = (r.text_en or r.title_en) if lang == "en" else (r.text or r.title)
    text = text or r.title or ""
    return text if len(text) <= 60 else text[:58] + "…"


def chapter_name(chapter: str, lang: str) -> str:
    r = isvc.catalog().version("mechanism").get(chapter)
    if r is None:
        return chapter
    return (r.title_en or r.title) if lang == "en" else (r.title or r.title_en)


def _type_shares(period: str, tier: int | None, source: str) -> tuple[dict[str, float], dict[str, int], int]:
    insp = _inspections(source).filter(**_in(period))
    if tier:
        insp = insp.filter(tier=tier)
    n = insp.values("organisation_id").distinct().count()
    f, prefix = _findings(source)
    f = f.filter(**_in(period, prefix))
    if tier:
        f = f.filter(**{f"{prefix}tier": tier})
    per = f.values("ref_id").annotate(b=Count("organisation_id", distinct=True)).values_list("ref_id", "b")
    counts = dict(per)
    shares = {ref: round(100 * b / n, 1) for ref, b in counts.items()} if n else {}
    return shares, counts, n


def risk_now(period: str, lang: str = "zh", tier: int | None = None, top: int = 15, source: str | None = None) -> dict:
    source = source_of(source)
    prev = previous(period)
    now, counts, n = _type_shares(period, tier, source)
    before, _c, n_prev = _type_shares(prev, tier, source)
    rows = []
    for ref in set(now) | set(before):
        share, was = now.get(ref, 0.0), before.get(ref)
        rows.append({"ref_id": ref, "label": _label(ref, lang), "chapter": RequirementId.parse(ref).chapter,
                     "brokers": counts.get(ref, 0), "share": share, "previous": was,
                     "change": None if was is None or not n_prev else round(share - was, 1)})
    rows.sort(key=lambda r: (-r["share"], r["ref_id"]))
    rising = sorted((r for r in rows if (r["change"] or 0) > 0), key=lambda r: (-r["change"], r["ref_id"]))[:5]
    return {"period": period, "source": source, "previous_period": prev, "brokers_inspected": n, "brokers_inspected_before": n_prev,
            "types": rows[:top], "rising": rising, "all_types": len(rows)}


def _totals(source: str, ps: list[str], tier: int | None) -> dict:
    f, prefix = _findings(source)
    if tier:
        f = f.filter(**{f"{prefix}tier": tier})
    out = {"counts": [], "points": []}
    for p in ps:
        agg = f.filter(**_in(p, prefix)).aggregate(n=Count("id"), pts=Sum("deduction_points"))
        out["counts"].append(agg["n"])
        out["points"].append(round(float(agg["pts"] or 0), 2))
    return out


def trends(tier: int | None = None, lang: str = "zh", last: int = 6, source: str | None = None) -> dict:
    source = source_of(source)
    ps = sorted(set(periods_with_data(source=SELF)) | set(periods_with_data(source=REGULATOR)))[-last:]
    f, prefix = _findings(source)
    everything = f
    if tier:
        f = f.filter(**{f"{prefix}tier": tier})
    data: dict[str, dict[str, dict]] = defaultdict(dict)
    by_tier: dict[int, dict[str, int]] = defaultdict(dict)
    for p in ps:
        q = f.filter(**_in(p, prefix))
        for ch, n, pts in q.values("chapter").annotate(n=Count("id"), p=Sum("deduction_points")).values_list(
                "chapter", "n", "p"):
            data[ch][p] = {"count": n, "points": float(pts or 0)}
        for t, n in everything.filter(**_in(p, prefix)).values(f"{prefix}tier").annotate(
                n=Count("id")).values_list(f"{prefix}tier", "n"):
            by_tier[t][p] = n
    chapters = sorted(data)
    return {"periods": ps, "tier": tier, "source": source, "beside": other(source),
            "beside_totals": _totals(other(source), ps, tier),
            "chapters": [{"chapter": ch, "name": chapter_name(ch, lang),
                          "counts": [data[ch].get(p, {}).get("count", 0) for p in ps],
                          "points": [data[ch].get(p, {}).get("points", 0.0) for p in ps]} for ch in chapters],
            "totals": {"counts": [sum(data[ch].get(p, {}).get("count", 0) for ch in chapters) for p in ps],
                       "points": [round(sum(data[ch].get(p, {}).get("points", 0.0) for ch in chapters), 2)
                                  for p in ps]},
            "by_tier": {t: [by_tier[t].get(p, 0) for p in ps] for t in sorted(by_tier)}}


def broker_detail(org: Organisation, lang: str = "zh", source: str | None = None) -> dict:
    source = source_of(source)
    ps = sorted(set(periods_with_data(source=SELF)) | set(periods_with_data(source=REGULATOR)))[-6:]
    rows = []
    for p in ps:
        row = {"period": p}
        for src, key in ((source, ""), (other(source), "_beside")):
            qs, prefix = _findings(src)
            agg = qs.filter(organisation=org, **_in(p, prefix)).aggregate(n=Count("id"), pts=Sum("deduction_points"))
            row |= {f"findings{key}": agg["n"], f"points{key}": float(agg["pts"] or 0)}
        rows.append(row)
    open_f = Finding.objects.filter(organisation=org).exclude(status=Finding.CLOSED)
    return {"id": org.pk, "name": org.name, "source": source, "beside": other(source),
            "tier": tier_of(org, dt.date.today()), "e_trading_share": _share(org),
            "capital": (org.profile or {}).get("capital"), "periods": rows, "open_findings": open_f.count(),
            "overdue_findings": open_f.filter(due_date__lt=timezone.localdate()).count()}
