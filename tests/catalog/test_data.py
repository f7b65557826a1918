"""The regulation data against its schema and against the seed documents, to the letter."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from tests.conftest import seed_text, squash

from ccinspect.catalog import Catalog, CatalogError
from ccinspect.catalog.loader import DATA_DIR
from ccinspect.catalog.models import ChapterFile, FrameworkSpec

CHAPTER_FILES = sorted(DATA_DIR.glob("*/*/CC-*.yaml"))


@pytest.mark.parametrize("path", CHAPTER_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}/{p.name}")
def test_every_chapter_file_validates(path: Path):
    cf = ChapterFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert cf.node.ref_id == path.stem
    assert cf.version == path.parent.name


@pytest.mark.parametrize("path", sorted(DATA_DIR.glob("*/framework.yaml")), ids=lambda p: p.parent.name)
def test_every_manifest_validates(path: Path):
    spec = FrameworkSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert spec.id == path.parent.name
    assert any(v.status == "in_force" for v in spec.versions)


def test_two_frameworks_and_their_versions(catalog):
    assert set(catalog.frameworks) == {"mechanism", "internal-control"}
    assert [v.id for v in catalog.frameworks["mechanism"].versions] == ["pre-2020", "2020-draft", "2020-12-11"]
    assert catalog.current_version_id("mechanism") == "2020-12-11"
    assert [v.id for v in catalog.frameworks["internal-control"].versions] == ["pre-amendment", "amended"]
    assert catalog.current_version_id("internal-control") == "amended"


def _all_versions(catalog):
    return [fv for fw in catalog.frameworks for fv in catalog.versions(fw)]


def test_ids_unique_parents_exist_children_consistent(catalog):
    for fv in _all_versions(catalog):
        ids = [r.ref_id for r in fv.requirements]
        assert len(ids) == len(set(ids)), fv.id
        for r in fv.requirements:
            if r.parent is not None:
                assert r.parent in fv, f"{fv.id}: {r.ref_id} has missing parent {r.parent}"
                assert r.ref_id in fv.get(r.parent).children
            for c in r.children:
                assert fv.get(c).parent == r.ref_id


def _label_token(label: str) -> str:
    return re.sub(r"[()（）.\s]", "", label)


def test_ref_ids_follow_the_labels(catalog):
    """ref_id = chapter code + each nested label without brackets and dots (sub-chapters use their own code)."""
    for fv in _all_versions(catalog):
        for r in fv.requirements:
            if r.parent is None or re.fullmatch(r"CC-\d{5}", r.ref_id):
                continue
            parent = fv.get(r.parent)
            assert r.ref_id == f"{parent.ref_id}.{_label_token(r.label)}", (fv.id, r.ref_id, r.label)


def test_every_node_has_text_english_and_no_placeholder(catalog):
    for fv in _all_versions(catalog):
        for r in fv.requirements:
            assert r.text.strip() and r.text_en.strip(), r.ref_id
            for value in (r.text_en, r.title_en or "", r.note_en or ""):
                assert "TODO" not in value, f"{fv.framework.id}/{fv.id} {r.ref_id}"
            # Chinese may stay only as the original name beside a translation: (「…」) or (…).
            bare = re.sub(r"「[^」]*」|\([^)]*\)|（[^）]*）", "", r.text_en)
            assert not re.search(r"[\u4e00-\u9fff]{2,}", bare), f"{r.ref_id}: untranslated Chinese in {bare!r}"
            if r.title is not None:
                assert r.title_en, r.ref_id


def test_every_mechanism_node_has_cadence_and_known_conditions(catalog):
    for fv in catalog.versions("mechanism"):
        for r in fv.requirements:
            if r.ref_id != "CC-17000":  # chapter 7 has none itself: its two sub-chapters do
                assert r.cadence is not None, f"{fv.id} {r.ref_id}"
            for c in r.conditions_flat():
                assert c in catalog.conditions


EXPECTED_CADENCE = {
    "CC-11000": "annual", "CC-12000": "annual", "CC-13000": "annual", "CC-14000": "semiannual",
    "CC-15000": "semiannual", "CC-16000": "semiannual", "CC-17010": "monthly", "CC-17020": "semiannual",
    "CC-18000": "monthly", "CC-19000": "semiannual", "CC-20000": "semiannual", "CC-21000": "semiannual",
    "CC-21100": "annual", "CC-22000": "semiannual", "CC-22010": "semiannual",
}


def test_cadence_of_each_chapter_as_its_heading_says(mechanism):
    for ref, cad in EXPECTED_CADENCE.items():
        assert mechanism.get(ref).cadence.value == cad, ref
        assert {mechanism.get(d.ref_id).cadence.value for d in mechanism.descendants(ref)} <= {cad}


# --- against the seed text --------------------------------------------------------------------------

_LABEL_LINE = re.compile(r"^\s*(\((\d+)\)|[a-z]\.|\([a-z]\)|\d+\.)")


def _seed_counts() -> Counter:
    """Count labelled lines per chapter directly from 002: an independent check of the data's completeness."""
    counts: Counter = Counter()
    chapter = None
    for line in seed_text("002").splitlines()[3:]:
        s = line.strip()
        if m := re.match(r"^(\d+)\..*?（(CC-\d{5})", s):
            chapter = m.group(2)
            counts[chapter] += 1
            continue
        if s.startswith("資訊提供作業（CC-22010）"):
            counts[chapter] += 1
            continue
        if chapter and _LABEL_LINE.match(s) and not s.startswith("ilbreak"):
            counts[chapter] += 1
    return counts


# Counted by hand from 002 as well, so that a change to the counting code cannot pass silently.
EXPECTED_COUNTS = {
    "CC-11000": 5, "CC-12000": 13, "CC-13000": 7, "CC-14000": 4, "CC-15000": 6, "CC-16000": 7,
    "CC-17000": 65, "CC-18000": 40, "CC-19000": 30, "CC-20000": 8, "CC-21000": 3, "CC-21100": 30,
    "CC-22000": 11,
}


def test_node_counts_per_chapter_match_the_seed(mechanism):
    ours = Counter(r.chapter for r in mechanism.requirements)
    assert dict(ours) == EXPECTED_COUNTS
    assert dict(_seed_counts()) == EXPECTED_COUNTS
    assert sum(EXPECTED_COUNTS.values()) == 229


def test_every_text_is_verbatim_from_its_seed(catalog):
    """Each node's text, whitespace removed, occurs in the seed its version names."""
    seeds = {p: squash(seed_text(p)) for p in ("000", "002", "004")}
    for fw in catalog.frameworks:
        for fv in catalog.versions(fw):
            allowed = [seeds[s] for s in seeds if s in fv.spec.source]
            if fv.spec.derived_from:  # unchanged nodes come from the base version's seed
                base = catalog.version(fw, fv.spec.derived_from)
                allowed += [seeds[s] for s in seeds if s in base.spec.source]
            assert allowed, f"{fw}/{fv.id}: source {fv.spec.source!r} names no seed"
            for r in fv.requirements:
                t = squash(r.text)
                assert any(t in s for s in allowed), f"{fw}/{fv.id} {r.ref_id}: text not verbatim: {r.text}"


SPOT = {
    "CC-12000.6": "公司每年應將前一年度資訊安全整體執行情形，由負責資訊安全之最高主管與董事長、總經理、稽核主管聯名出具"
                  "資訊安全整體執行情形聲明書，並提報董事會通過，於會計年度終了後三個月內將該聲明書內容揭露於公開資訊觀測站。",
    "CC-13000.3": "公司應視資訊安全管理需要及所屬資安分級，指定專人或專責單位負責規劃與執行資訊安全工作，且資訊安全專責人員"
                  "及專責主管每年應定期參加十五小時以上資訊安全專業課程訓練或職能訓練並通過評量。其他使用資訊系統之從業人員，"
                  "每年應至少接受三小時以上資訊安全宣導課程。",
    "CC-18000.3.f": "除輸入介面僅可輸入數字外（例如：語音按鍵下單），公司應使用優質密碼設定（長度6個字元（含）以上，且具有文"
                    "數字或符號），並加強宣導客戶定期更新使用者密碼以不超過三個月為宜。除客戶外，公司其他使用者之密碼應至少每三個"
                    "月變更一次。",
    "CC-17010.i.b": "公司應依其所屬資安分級定期辦理資通安全健診(應含網路架構檢視、網路惡意活動檢視、使用者端電腦惡意活動檢視、"
                    "伺服器主機惡意活動檢視、目錄伺服器設定及防火牆連線設定檢視)。(112年1月底生效)",
    "CC-20000.4": "公司應擬訂營運持續計畫（含起動條件、參與人員、緊急程序、備援程序、維護時間表、教育訓練、職責說明、往來外單位"
                  "之應變規劃及合約適當性等）及其必要之維護，並擬訂關鍵性業務及其衝擊影響分析，再依其所屬資安分級定期辦理業務持續"
                  "運作演練。(111年1月底生效)",
    "CC-19000.11.b.b": "啟動行動應用程式時，如偵測行動裝置疑似遭破解（如root、jailbreak、USB debugging等），應提示使用者注意風險。",
    "CC-22010.i": "證券商若於網站平台上進行推介，應設有密碼以控管得閱覽個股研究報告之客戶；且客戶應與證券商簽訂推介契約（國內"
                  "機構投資人及外國機構投資人得免簽）。",
}


@pytest.mark.parametrize("ref_id", sorted(SPOT))
def test_spot_checks_against_the_seed(mechanism, ref_id):
    assert mechanism.get(ref_id).text == SPOT[ref_id]
    assert squash(SPOT[ref_id]) in squash(seed_text("002"))


def test_applicability_stated_by_the_text(mechanism):
    get = mechanism.get
    assert get("CC-11000.3").applies_to == ("internet_orders",)
    # CC-17010: internet-order brokers, but items a, b and e bind every broker.
    assert "internet_orders" in get("CC-17010.c").applies_to
    for item in ("CC-17010.a.e", "CC-17010.b.g", "CC-17010.e.h"):
        assert "internet_orders" not in get(item).applies_to, item
    assert "internet_orders" in get("CC-17010.i.a").applies_to and "by_tier" in get("CC-17010.i.a").applies_to
    assert get("CC-14000.2").applies_to == ("internet_orders",)
    assert get("CC-14000.1").applies_to == ()
    assert "securities_brokerage" in get("CC-17020.e").applies_to
    assert "securities_brokerage" in get("CC-20000.3").applies_to
    assert "public_company" in get("CC-18000.5.d").applies_to
    assert "cloud_user" in get("CC-21100.1.a").applies_to
    assert "by_tier" in get("CC-12000.8").applies_to and "by_tier" in get("CC-13000.6").applies_to


def test_effective_dates_from_the_text(mechanism):
    import datetime as dt

    g = mechanism.get
    assert g("CC-17010.i.a").effective_from == dt.date(2022, 1, 31)
    for item in "bcdef":
        assert g(f"CC-17010.i.{item}").effective_from == dt.date(2023, 1, 31)
    assert g("CC-13000.6").effective_from == dt.date(2023, 1, 31)
    assert g("CC-14000.3").effective_from == dt.date(2022, 1, 31)
    assert g("CC-20000.4").effective_from == dt.date(2022, 1, 31)
    m = g("CC-12000.8")
    assert m.effective_from == dt.date(2022, 1, 31)
    assert [(x.date, x.scope_en) for x in m.milestones] == [
        (dt.date(2022, 1, 31), "adoption"), (dt.date(2023, 1, 31), "certification")]


def test_obligation_strength(mechanism):
    assert mechanism.get("CC-17010.e.h").obligation == "recommended"  # 宜
    assert mechanism.get("CC-13000.4").obligation == "permitted"  # 得
    assert mechanism.get("CC-22010.e").obligation == "mandatory"  # 不得
    assert mechanism.get("CC-18000.3").obligation == "none" and not mechanism.get("CC-18000.3").assessable


# --- tier schedule and focus points -------------------------------------------------------------------


def test_tier_boundaries(catalog):
    t = {x.tier: (x.min_capital, x.max_capital) for x in catalog.tier_schedule.tiers}
    assert t == {1: (20_000_000_000, None), 2: (10_000_000_000, 20_000_000_000),
                 3: (4_000_000_000, 10_000_000_000), 4: (None, 4_000_000_000)}
    assert [x.broker_count for x in catalog.tier_schedule.tiers] == [3, 6, 10, 45]


def test_every_by_tier_requirement_is_named_by_a_tier_duty(catalog, mechanism):
    implemented = {ref for d in catalog.tier_schedule.duties for ref in d.implements}
    for r in mechanism.requirements:
        if "by_tier" in r.conditions_flat() and r.assessable:
            assert r.ref_id in implemented or (r.parent in implemented), r.ref_id


def test_disagreeing_sources_are_both_kept(catalog):
    duties = {d.id: d for d in catalog.tier_schedule.duties}
    soc = next(d for d in duties.values() if "CC-17010.i.c" in d.implements)
    apt = next(d for d in duties.values() if "CC-17010.i.f" in d.implements)
    assert {b.source: b.tiers for b in soc.bindings} == {"001": [1, 2], "003": [1, 2, 3]}
    assert {b.source: b.tiers for b in apt.bindings} == {"001": [1], "003": [1, 2]}
    hc = next(d for d in duties.values() if "CC-17010.i.b" in d.implements)
    assert hc.frequency_by_tier == {1: 12, 2: 24, 3: 24}


def test_focus_points_cover_credential_stuffing(catalog):
    pts = [p for p in catalog.focus_points.points if "撞庫" in p.text]
    assert pts and all(p.ref_ids for p in pts)
    assert all(p.ref_ids for p in catalog.focus_points.points)
    assert len(catalog.focus_points.points) >= 60


# --- the loader rejects bad data with the file and field --------------------------------------------------


def test_bad_data_is_a_clear_error(tmp_path):
    import shutil

    shutil.copytree(DATA_DIR, tmp_path / "data")
    f = tmp_path / "data" / "mechanism" / "2020-12-11" / "CC-11000.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("cadence: annual", "cadence: weekly", 1), encoding="utf-8")
    with pytest.raises(CatalogError) as exc:
        Catalog(tmp_path / "data")
    assert "CC-11000.yaml" in str(exc.value) and "cadence" in str(exc.value)


def test_unknown_reference_is_a_clear_error(tmp_path):
    import shutil

    shutil.copytree(DATA_DIR, tmp_path / "data")
    f = tmp_path / "data" / "focus_points.yaml"
    text = f.read_text(encoding="utf-8")
    first_ref = re.search(r"CC-\d{5}[.\w]*", text).group(0)
    f.write_text(text.replace(first_ref, "CC-99999.1", 1), encoding="utf-8")
    with pytest.raises(CatalogError, match="CC-99999.1"):
        Catalog(tmp_path / "data")


def test_bundled_sources_are_the_documents_named_in_the_data(catalog, monkeypatch):
    """A lone clone carries its sources: every seed the data names is bundled, unchanged (SHA256SUMS)."""
    import hashlib

    from ccinspect.catalog.loader import SOURCES_DIR, source_path

    monkeypatch.delenv("CCINSPECT_SEEDS", raising=False)
    sums = dict(line.split()[::-1] for line in (SOURCES_DIR / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == sorted(p.name for p in SOURCES_DIR.glob("*.txt")) and len(sums) == 5
    for name, digest in sums.items():
        assert hashlib.sha256((SOURCES_DIR / name).read_bytes()).hexdigest() == digest, name
    for src in catalog.tier_schedule.sources:
        assert source_path(src.id).name == src.seed


def test_ccinspect_seeds_overrides_and_a_wrong_one_is_named(tmp_path, monkeypatch):
    from ccinspect.catalog.loader import source_path

    (tmp_path / "002_other.txt").write_text("x", encoding="utf-8")
    monkeypatch.setenv("CCINSPECT_SEEDS", str(tmp_path))
    assert source_path("002") == tmp_path / "002_other.txt"
    with pytest.raises(CatalogError, match="exactly one 003_"):
        source_path("003")
    monkeypatch.setenv("CCINSPECT_SEEDS", str(tmp_path / "nowhere"))
    with pytest.raises(CatalogError, match="not a directory"):
        source_path("002")
