"""Exports of the catalog: JSON, CSV, XLSX and OSCAL (catalogs per framework version, profiles per tier)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from pathlib import Path

from ..core.safe_cells import csv_escape, text_cells
from .loader import Catalog, FrameworkVersion

CSV_FIELDS = ["framework", "version", "ref_id", "parent", "chapter", "label", "depth", "title", "title_en",
              "text", "text_en", "cadence", "obligation", "assessable", "applies_to", "effective_from",
              "milestones", "note", "note_en"]

# Stable UUIDs: the same catalog exports the same OSCAL document ids.
_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ccinspect:oscal")
OSCAL_NS = "urn:ccinspect:oscal"


def select_versions(cat: Catalog, framework: str | None, version: str | None) -> list[FrameworkVersion]:
    fws = [framework] if framework and framework != "all" else list(cat.frameworks)
    out = []
    for fw in fws:
        if version:
            if any(v.id == version for v in cat.frameworks[fw].versions):
                out.append(cat.version(fw, version))
            elif framework and framework != "all":
                cat.version(fw, version)  # raises with the known versions
        else:
            out.append(cat.version(fw))
    if not out:
        raise KeyError(f"no framework has a version {version!r}")
    return out


def to_json(versions: list[FrameworkVersion]) -> str:
    doc = {
        "frameworks": [{"id": v.framework.id, "title": v.framework.title, "title_en": v.framework.title_en,
                        "version": v.id, "version_title": v.spec.title, "status": v.spec.status.value}
                       for v in versions],
        "requirements": [r.to_dict() for v in versions for r in v.requirements],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _flat(r) -> dict:
    d = r.to_dict()
    d["applies_to"] = json.dumps(d["applies_to"], ensure_ascii=False) if d["applies_to"] else ""
    d["milestones"] = "; ".join(f"{m['date']} {m['scope_en']}" for m in d["milestones"])
    return {k: ("" if d[k] is None else d[k]) for k in CSV_FIELDS}


def to_csv(versions: list[FrameworkVersion]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for v in versions:
        for r in v.requirements:
            w.writerow({k: csv_escape(v) for k, v in _flat(r).items()})
    return buf.getvalue()


def to_xlsx(versions: list[FrameworkVersion], cat: Catalog, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    wb.remove(wb.active)
    head = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    widths = {"ref_id": 18, "text": 70, "text_en": 70, "title": 20, "title_en": 24, "applies_to": 24}

    def sheet(name: str, fields: list[str], rows: list[dict]) -> None:
        ws = wb.create_sheet(name[:31])
        ws.append(fields)
        for c in ws[1]:
            c.font, c.fill = head, fill
        for row in rows:
            ws.append([row.get(f, "") for f in fields])
        for i, f in enumerate(fields, 1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = widths.get(f, 12)
        for row in ws.iter_rows(min_row=2):
            for c in row:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        text_cells(ws)

    for v in versions:
        sheet(f"{v.framework.id} {v.id}", CSV_FIELDS, [_flat(r) for r in v.requirements])
    sheet("tier duties", ["id", "name", "name_en", "kind", "implements", "source", "tiers", "scope",
                          "effective_text", "frequency"],
          [{"id": d.id, "name": d.name, "name_en": d.name_en, "kind": d.kind,
            "implements": ", ".join(d.implements), "source": b.source,
            "tiers": ", ".join(map(str, b.tiers)), "scope": b.scope, "effective_text": b.effective_text or "",
            "frequency": b.frequency or ""}
           for d in cat.tier_schedule.duties for b in d.bindings])
    sheet("focus points", ["id", "area", "area_en", "number", "text", "text_en", "ref_ids", "tiers"],
          [{"id": p.id, "area": p.area, "area_en": p.area_en, "number": p.number, "text": p.text,
            "text_en": p.text_en, "ref_ids": ", ".join(p.ref_ids),
            "tiers": ", ".join(map(str, p.tiers)) if p.tiers else "all"} for p in cat.focus_points.points])
    wb.save(path)


# --- OSCAL ---------------------------------------------------------------------------------------------


def _oscal_id(ref_id: str) -> str:
    return ref_id.lower()


def _metadata(title: str, version: str):
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal.common import Metadata

    return Metadata(title=title, last_modified=dt.datetime.now(dt.UTC).replace(microsecond=0),
                    version=version, oscal_version=OSCAL_VERSION)


def oscal_catalog(v: FrameworkVersion):
    from trestle.oscal.catalog import Catalog as OscalCatalog
    from trestle.oscal.catalog import Control
    from trestle.oscal.catalog import Group2 as Group  # the variant of Group that holds controls
    from trestle.oscal.common import Part, Property

    def props(r) -> list:
        out = [Property(name="label", value=r.label or r.ref_id)]
        if r.cadence:
            out.append(Property(name="cadence", value=r.cadence.value, ns=OSCAL_NS))
        out.append(Property(name="obligation", value=r.obligation, ns=OSCAL_NS))
        out.append(Property(name="assessable", value=str(r.assessable).lower(), ns=OSCAL_NS))
        for c in r.applies_to_json():
            val = c if isinstance(c, str) else "any-of:" + "|".join(c["any_of"])
            out.append(Property(name="applies-to", value=val, ns=OSCAL_NS))
        if r.effective_from:
            out.append(Property(name="effective-from", value=r.effective_from.isoformat(), ns=OSCAL_NS))
        return out

    def parts(r) -> list:
        ps = [Part(id=f"{_oscal_id(r.ref_id)}_smt", name="statement", prose=r.text),
              Part(id=f"{_oscal_id(r.ref_id)}_smt.en", name="statement-en", ns=OSCAL_NS, prose=r.text_en)]
        if r.note:
            ps.append(Part(id=f"{_oscal_id(r.ref_id)}_note", name="guidance", prose=f"{r.note}\n\n{r.note_en}"))
        return ps

    def control(r) -> Control:
        kids = [control(v.get(c)) for c in r.children]
        title = r.title or (r.text if len(r.text) <= 40 else r.text[:40] + "…")
        return Control(id=_oscal_id(r.ref_id), title=title, props=props(r), parts=parts(r),
                       controls=kids or None)

    groups = []
    for ch in v.chapter_nodes():
        groups.append(Group(id=_oscal_id(ch.ref_id), title=f"{ch.title} ({ch.title_en})", props=props(ch),
                            parts=parts(ch), controls=[control(v.get(c)) for c in ch.children] or None))
    return OscalCatalog(
        uuid=str(uuid.uuid5(_NS, f"catalog/{v.framework.id}/{v.id}")),
        metadata=_metadata(f"{v.framework.title} — {v.spec.title} / {v.framework.title_en} ({v.spec.title_en})",
                           v.id),
        groups=groups,
    )


def write_oscal_catalogs(cat: Catalog, folder: Path, version: str | None) -> list[str]:
    """An OSCAL catalog per framework version into `folder` (the tier profiles that select from them are
    the applicability context's: applicability/oscal.py); returns the file names."""
    written = []
    for fw in cat.frameworks:
        for v in cat.versions(fw):
            if version and v.id != version:
                continue
            p = folder / f"catalog-{fw}-{v.id}.json"
            p.write_text(oscal_catalog(v).oscal_serialize_json(pretty=True), encoding="utf-8")
            written.append(p.name)
    return written
