"""The continuity register's XLSX import and YAML store: a register, or RegisterError naming sheet/row/column."""

from __future__ import annotations

import datetime as dt

import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from tests.fuzz.conftest import scratch

from ccinspect.continuity.model import KINDS, Register
from ccinspect.continuity.store import RegisterError, read_workbook, read_yaml

cells = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                  st.dates(min_value=dt.date(1900, 1, 2)), st.sampled_from(["", "sys1", "bcp", "passed", "1", "113/06/30",
                                                                          "a; b", "TRUE", "-5"]),
                  st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12))


def _check(fn, path):
    try:
        reg = fn(path)
    except RegisterError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.source == path.name and p.message, p
    else:
        assert isinstance(reg, Register)


@given(st.dictionaries(st.sampled_from([*KINDS, "README", "other"]),
                       st.lists(st.lists(cells, max_size=8), max_size=5), min_size=1, max_size=9), st.booleans())
def test_read_workbook_random_cells(sheets, with_headers):
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if with_headers and name in KINDS:
            ws.append(list(KINDS[name][0].model_fields))
        for r in rows:
            ws.append(r)
    with scratch() as d:
        p = d / "continuity.xlsx"
        wb.save(p)
        _check(read_workbook, p)


@given(st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b if b[:1] == b"\x00" else b))
def test_read_workbook_random_bytes(raw):
    with scratch() as d:
        p = d / "continuity.xlsx"
        p.write_bytes(raw)
        _check(read_workbook, p)


yaml_values = st.recursive(cells.map(lambda v: v if not isinstance(v, float) else v), lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=10)


@given(st.one_of(
    st.dictionaries(st.sampled_from([*KINDS, "x"]), st.lists(st.dictionaries(
        st.sampled_from(["id", "system", "name", "owner", "date", "kind", "result", "scenario", "since", "site",
                         "moment", "systems", "x"]), cells, max_size=6), max_size=3), max_size=4).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True).encode()),
    yaml_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode()),
    st.binary(max_size=200),
))
def test_read_yaml_any_bytes(raw):
    with scratch() as d:
        p = d / "continuity.yaml"
        p.write_bytes(raw)
        _check(read_yaml, p)
