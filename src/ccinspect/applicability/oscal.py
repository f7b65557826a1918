"""OSCAL profiles per tier: what a broker of each tier must do, as a selection of controls from the
mechanism's OSCAL catalog (catalog/export.py writes the catalogs; the tiers are judged here, where they live).

A profile selects controls only: the 13 chapters are the catalog's groups, and OSCAL profiles select groups'
controls, never the groups themselves (compliance-trestle's ProfileResolver refuses a group id as a control).
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from ccinspect.catalog.export import _NS, _metadata, _oscal_id, write_oscal_catalogs
from ccinspect.catalog.loader import Catalog
from ccinspect.core.files import atomic_dir

from .engine import evaluate
from .profile import BrokerProfile


def tier_profile_ids(cat: Catalog, tier: int, as_of: dt.date) -> tuple[str, list[str]]:
    """(the mechanism version, the control ids a broker of this tier must implement, all business lines
    assumed, in force or scheduled), in the catalog's order; chapters (groups) are left out."""
    t = next(x for x in cat.tier_schedule.tiers if x.tier == tier)
    flags = {k: True for k, f in BrokerProfile.model_fields.items() if f.annotation is bool}
    flags["public_network_terminals"] = False
    prof = BrokerProfile(name=f"tier {tier}", capital=t.min_capital or 1, **flags)
    res = evaluate(prof, as_of, cat)
    chapters = {ch.ref_id for ch in cat.version("mechanism", res.version).chapter_nodes()}
    order = {e.ref_id: e.requirement.order for e in res.applicable + res.upcoming if e.ref_id not in chapters}
    return res.version, [_oscal_id(ref) for ref in sorted(order, key=order.get)]


def oscal_tier_profile(cat: Catalog, tier: int, catalog_href: str, as_of: dt.date):
    from trestle.oscal.profile import Import2 as Import  # the variant that includes controls
    from trestle.oscal.profile import Merge2 as Merge  # the variant that keeps the catalog's grouping
    from trestle.oscal.profile import Profile, SelectControl

    t = next(x for x in cat.tier_schedule.tiers if x.tier == tier)
    version, ids = tier_profile_ids(cat, tier, as_of)
    return Profile(
        uuid=str(uuid.uuid5(_NS, f"profile/tier-{tier}/{version}")),
        metadata=_metadata(f"{t.name}證券商應辦事項 / {t.name_en} securities firms ({version})", version),
        imports=[Import(href=catalog_href, include_controls=[SelectControl(with_ids=ids)])],
        merge=Merge(as_is=True),  # the resolved catalog keeps the chapters as its groups
    )


def write_oscal(cat: Catalog, out: Path, version: str | None, as_of: dt.date) -> list[Path]:
    """The catalogs and a profile per tier into `out`, together (one folder renamed into place). A profile's
    href names its catalog by file name, beside it."""
    with atomic_dir(out, keep_others=True) as tmp:
        written = write_oscal_catalogs(cat, tmp, version)
        mech = cat.version("mechanism", version) if version and any(
            v.id == version for v in cat.frameworks["mechanism"].versions) else cat.version("mechanism")
        href = f"catalog-mechanism-{mech.id}.json"
        if (tmp / href).exists():
            for t in cat.tier_schedule.tiers:
                p = tmp / f"profile-tier-{t.tier}-{mech.id}.json"
                p.write_text(oscal_tier_profile(cat, t.tier, href, as_of).oscal_serialize_json(pretty=True),
                             encoding="utf-8")
                written.append(p.name)
    return [out / n for n in written]
