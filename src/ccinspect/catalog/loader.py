"""Loads the regulation data, derives amended versions, and resolves inheritance into flat requirements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from ccinspect.core import settings
from ccinspect.core.errors import InputError, place_of

from .models import (
    AddOp,
    Cadence,
    ChapterFile,
    ConditionsFile,
    ConditionSpec,
    FocusPointsFile,
    FrameworkSpec,
    ModifyOp,
    Node,
    RecurringFile,
    RemoveOp,
    TierScheduleFile,
    VersionSpec,
    VersionStatus,
)

DATA_DIR = Path(str(resources.files("ccinspect.catalog") / "data"))
# The TWSE documents the data is checked against (plain-text extractions; provenance in sources/README.md).
SOURCES_DIR = Path(str(resources.files("ccinspect.catalog") / "sources"))


def sources_dir() -> Path:
    """The source documents: CCINSPECT_SEEDS when set (another copy to check against), else the bundled ones."""
    env = settings.env("CCINSPECT_SEEDS")
    path = Path(env) if env else SOURCES_DIR
    if not path.is_dir():
        raise CatalogError(f"CCINSPECT_SEEDS={env}: not a directory (unset it to use the bundled {SOURCES_DIR})")
    return path


def source_path(prefix: str) -> Path:
    """The one source document whose name starts with `prefix_` (e.g. "002")."""
    found = sorted(sources_dir().glob(f"{prefix}_*.txt"))
    if len(found) != 1:
        raise CatalogError(f"{sources_dir()}: expected exactly one {prefix}_*.txt, found {len(found)}")
    return found[0]


class CatalogError(InputError):
    """A data file is malformed; the message names the file and the field."""

    def __init__(self, message, **where):
        # older messages say where in their text ("path: line 3: ..."); the place is still carried as fields
        if isinstance(message, str) and not where:
            where = {"located": True, **place_of(message)}
        super().__init__(message, **where)


def _read_yaml(path: Path):
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc


def _validate(model, path: Path, data):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {loc}: {err['msg']}")
        raise CatalogError(f"{path}: does not match the {model.__name__} schema:\n" + "\n".join(lines)) from exc


@dataclass(frozen=True)
class Requirement:
    """One node of a framework version, with inherited attributes resolved."""

    framework: str
    version: str
    ref_id: str
    parent: str | None
    chapter: str
    label: str
    depth: int
    order: int
    title: str | None
    title_en: str | None
    text: str
    text_en: str
    cadence: Cadence | None
    obligation: str
    assessable: bool
    applies_to: tuple  # conditions: str ids or ("any_of", (ids…))
    effective_from: dt.date | None
    milestones: tuple
    note: str | None
    note_en: str | None
    children: tuple[str, ...] = field(default=())

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def conditions_flat(self) -> list[str]:
        out: list[str] = []
        for c in self.applies_to:
            out.extend(c[1] if isinstance(c, tuple) else [c])
        return out

    def applies_to_json(self) -> list:
        return [{"any_of": list(c[1])} if isinstance(c, tuple) else c for c in self.applies_to]

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "version": self.version,
            "ref_id": self.ref_id,
            "parent": self.parent,
            "chapter": self.chapter,
            "label": self.label,
            "depth": self.depth,
            "title": self.title,
            "title_en": self.title_en,
            "text": self.text,
            "text_en": self.text_en,
            "cadence": self.cadence.value if self.cadence else None,
            "obligation": self.obligation,
            "assessable": self.assessable,
            "applies_to": self.applies_to_json(),
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "milestones": [
                {"date": m.date.isoformat(), "scope": m.scope, "scope_en": m.scope_en,
                 "source_text": m.source_text, "duty": m.duty}
                for m in self.milestones
            ],
            "note": self.note,
            "note_en": self.note_en,
            "children": list(self.children),
        }


def _cond_key(c) -> object:
    return c if isinstance(c, str) else ("any_of", tuple(c.any_of))


class FrameworkVersion:
    """The requirements of one version of one framework, in document order."""

    def __init__(self, spec: FrameworkSpec, version: VersionSpec, chapters: list[Node]):
        self.framework = spec
        self.spec = version
        self.chapters = chapters
        self.requirements: list[Requirement] = []
        self._by_id: dict[str, Requirement] = {}
        for ch in chapters:
            self._flatten(ch, None, ch.ref_id, 0, (), None, None)

    @property
    def id(self) -> str:
        return self.spec.id

    def _flatten(self, node: Node, parent: str | None, chapter: str, depth: int,
                 inherited: tuple, cadence: Cadence | None, effective: dt.date | None) -> None:
        conds = tuple(_cond_key(c) for c in node.applies_to)
        applies = conds if node.applies_to_replaces else inherited + tuple(c for c in conds if c not in inherited)
        cad = node.cadence or cadence
        eff = node.effective_from or effective
        if node.ref_id in self._by_id:
            raise CatalogError(f"{self.framework.id}/{self.id}: duplicate ref_id {node.ref_id}")
        req = Requirement(
            framework=self.framework.id, version=self.id, ref_id=node.ref_id, parent=parent,
            chapter=chapter, label=node.label, depth=depth, order=len(self.requirements),
            title=node.title, title_en=node.title_en, text=node.text, text_en=node.text_en,
            cadence=cad, obligation=node.obligation.value, assessable=node.assessable,
            applies_to=applies, effective_from=eff, milestones=tuple(node.milestones),
            note=node.note, note_en=node.note_en,
            children=tuple(c.ref_id for c in node.children),
        )
        self.requirements.append(req)
        self._by_id[req.ref_id] = req
        for child in node.children:
            self._flatten(child, node.ref_id, chapter, depth + 1, applies, cad, eff)

    def get(self, ref_id: str) -> Requirement | None:
        return self._by_id.get(ref_id)

    def __contains__(self, ref_id: str) -> bool:
        return ref_id in self._by_id

    def chapter_nodes(self) -> list[Requirement]:
        return [r for r in self.requirements if r.parent is None]

    def descendants(self, ref_id: str) -> list[Requirement]:
        out, stack = [], list(reversed(self._by_id[ref_id].children))
        while stack:
            r = self._by_id[stack.pop()]
            out.append(r)
            stack.extend(reversed(r.children))
        return out


def _index(nodes: list[Node]) -> dict[str, tuple[Node, list[Node]]]:
    """ref_id -> (node, the sibling list that holds it)."""
    out: dict[str, tuple[Node, list[Node]]] = {}

    def walk(siblings: list[Node]) -> None:
        for n in siblings:
            out[n.ref_id] = (n, siblings)
            walk(n.children)

    walk(nodes)
    return out


def apply_changes(base: list[Node], version: VersionSpec, where: str) -> list[Node]:
    chapters = [n.model_copy(deep=True) for n in base]
    for i, change in enumerate(version.changes):
        idx = _index(chapters)
        ctx = f"{where}: changes[{i}] ({change.op})"
        if isinstance(change, RemoveOp):
            if change.ref_id not in idx:
                raise CatalogError(f"{ctx}: ref_id {change.ref_id} not in {version.derived_from}")
            node, sibs = idx[change.ref_id]
            sibs.remove(node)
        elif isinstance(change, ModifyOp):
            if change.ref_id not in idx:
                raise CatalogError(f"{ctx}: ref_id {change.ref_id} not in {version.derived_from}")
            node, sibs = idx[change.ref_id]
            data = node.model_dump()
            data.update(change.set)
            try:
                sibs[sibs.index(node)] = Node.model_validate(data)
            except ValidationError as exc:
                raise CatalogError(f"{ctx}: {change.ref_id}: {exc}") from exc
        elif isinstance(change, AddOp):
            if change.parent not in idx:
                raise CatalogError(f"{ctx}: parent {change.parent} not found")
            if change.node.ref_id in idx:
                raise CatalogError(f"{ctx}: {change.node.ref_id} already exists")
            parent, _ = idx[change.parent]
            pos = 0
            if change.after:
                ids = [c.ref_id for c in parent.children]
                if change.after not in ids:
                    raise CatalogError(f"{ctx}: sibling {change.after} not under {change.parent}")
                pos = ids.index(change.after) + 1
            parent.children.insert(pos, change.node)
    return chapters


class Catalog:
    """All frameworks, versions, the tier schedule, focus points and the condition vocabulary."""

    def __init__(self, data_dir: Path = DATA_DIR):
        self.data_dir = data_dir
        self.frameworks: dict[str, FrameworkSpec] = {}
        self._versions: dict[tuple[str, str], FrameworkVersion] = {}
        self._raw: dict[tuple[str, str], list[Node]] = {}
        for manifest in sorted(data_dir.glob("*/framework.yaml")):
            spec = _validate(FrameworkSpec, manifest, _read_yaml(manifest))
            if spec.id in self.frameworks:
                raise CatalogError(f"{manifest}: framework id {spec.id} defined twice")
            self.frameworks[spec.id] = spec
            for v in spec.versions:
                self._load_version(spec, v, manifest.parent)
        cond_path = data_dir / "conditions.yaml"
        self.conditions: dict[str, ConditionSpec] = {
            c.id: c for c in _validate(ConditionsFile, cond_path, _read_yaml(cond_path)).conditions
        }
        tiers_path = data_dir / "tiers.yaml"
        self.tier_schedule: TierScheduleFile = _validate(TierScheduleFile, tiers_path, _read_yaml(tiers_path))
        fp_path = data_dir / "focus_points.yaml"
        self.focus_points: FocusPointsFile = _validate(FocusPointsFile, fp_path, _read_yaml(fp_path))
        rec_path = data_dir / "recurring.yaml"
        self.recurring: RecurringFile = _validate(RecurringFile, rec_path, _read_yaml(rec_path))
        self._check_references()

    def _load_version(self, spec: FrameworkSpec, v: VersionSpec, root: Path) -> list[Node]:
        key = (spec.id, v.id)
        if key in self._raw:
            return self._raw[key]
        if v.directory:
            chapters: list[Node] = []
            files = sorted((root / v.directory).glob("*.yaml"))
            if not files:
                raise CatalogError(f"{root / v.directory}: version {v.id} has no chapter files")
            for f in files:
                cf = _validate(ChapterFile, f, _read_yaml(f))
                if cf.framework != spec.id or cf.version != v.id:
                    raise CatalogError(
                        f"{f}: says framework={cf.framework} version={cf.version}, "
                        f"expected {spec.id} {v.id}")
                chapters.append((cf.chapter, cf.node))
            chapters.sort(key=lambda t: t[0])
            nodes = [n for _, n in chapters]
        else:
            base_spec = next((x for x in spec.versions if x.id == v.derived_from), None)
            if base_spec is None:
                raise CatalogError(f"{root}/framework.yaml: version {v.id} derives from unknown {v.derived_from}")
            base = self._load_version(spec, base_spec, root)
            nodes = apply_changes(base, v, f"{root}/framework.yaml version {v.id}")
        self._raw[key] = nodes
        self._versions[key] = FrameworkVersion(spec, v, nodes)
        return nodes

    def _check_references(self) -> None:
        current = self.version("mechanism")
        for duty in self.tier_schedule.duties:
            for ref in duty.implements:
                if ref not in current:
                    raise CatalogError(f"tiers.yaml: duty {duty.id} implements unknown ref_id {ref}")
        for fp in self.focus_points.points:
            for ref in fp.ref_ids:
                if ref not in current:
                    raise CatalogError(f"focus_points.yaml: point {fp.id} names unknown ref_id {ref}")
        for rd in self.recurring.duties:
            fv = self.version(rd.framework) if rd.framework in self.frameworks else None
            for ref in rd.ref_ids:
                if fv is None or ref not in fv:
                    raise CatalogError(f"recurring.yaml: duty {rd.id} names unknown {rd.framework} ref_id {ref}")
            if rd.tier_duty and rd.tier_duty not in {d.id for d in self.tier_schedule.duties}:
                raise CatalogError(f"recurring.yaml: duty {rd.id} names unknown tier duty {rd.tier_duty}")
        for fv in self._versions.values():
            for r in fv.requirements:
                for c in r.conditions_flat():
                    if c not in self.conditions:
                        raise CatalogError(
                            f"{fv.framework.id}/{fv.id}: {r.ref_id} names unknown condition {c!r}")

    # --- queries -----------------------------------------------------------------------------------

    def version(self, framework: str = "mechanism", version: str | None = None) -> FrameworkVersion:
        if framework not in self.frameworks:
            raise KeyError(f"unknown framework {framework!r}; known: {sorted(self.frameworks)}")
        if version is None:
            version = self.current_version_id(framework)
        key = (framework, version)
        if key not in self._versions:
            known = [v.id for v in self.frameworks[framework].versions]
            raise KeyError(f"unknown version {version!r} of {framework}; known: {known}")
        return self._versions[key]

    def current_version_id(self, framework: str = "mechanism") -> str:
        for v in reversed(self.frameworks[framework].versions):
            if v.status == VersionStatus.in_force:
                return v.id
        return self.frameworks[framework].versions[-1].id

    def version_in_force(self, framework: str, on: dt.date) -> FrameworkVersion:
        """The version whose in-force window contains the date (drafts never are)."""
        best = None
        for v in self.frameworks[framework].versions:
            if v.status == VersionStatus.draft:
                continue
            start = v.in_force_from or dt.date.min
            end = v.in_force_until or dt.date.max
            if start <= on < end:
                best = v
        return self.version(framework, (best or self.frameworks[framework].versions[-1]).id)

    def versions(self, framework: str = "mechanism") -> list[FrameworkVersion]:
        return [self._versions[(framework, v.id)] for v in self.frameworks[framework].versions]

    def find(self, ref_id: str, version: str | None = None) -> Requirement:
        """Look a ref_id up across frameworks (current version unless one is named)."""
        # The inspection mechanism first: CC-20000 names a chapter there and the internal-control standard.
        for fw in sorted(self.frameworks, key=lambda f: f != "mechanism"):
            try:
                fv = self.version(fw, version) if version else self.version(fw)
            except KeyError:
                continue
            if ref_id in fv:
                return fv.get(ref_id)
        raise KeyError(f"no requirement {ref_id!r}" + (f" in version {version}" if version else ""))

    def duties_for(self, ref_id: str) -> list:
        return [d for d in self.tier_schedule.duties if ref_id in d.implements]

    def focus_points_for(self, ref_id: str) -> list:
        return [p for p in self.focus_points.points if ref_id in p.ref_ids]


@cache
def load_catalog() -> Catalog:
    return Catalog()
