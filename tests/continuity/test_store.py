"""The register on disk: XLSX template, round trip, and imports of bad workbooks (nothing written)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from tests.continuity.conftest import clean_data, register

from ccinspect.continuity import (
    KINDS,
    REGISTER_YAML,
    Register,
    RegisterError,
    import_workbook,
    load_register,
    read_yaml,
    save_register,
    write_workbook,
)

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "continuity"


def test_template_has_one_sheet_per_kind_headers_and_validation(tmp_path):
    out = write_workbook(Register(), tmp_path / "t.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["README", *KINDS]
    ws = wb["drills"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["id", "kind", "date", "scenario"]
    assert ws.max_row == 1  # empty
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"bcp,ddos,fault_recovery,restore"' in formulas
    assert '"passed,partial,failed"' in formulas
    types = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "date", "decimal"} <= types
    assert [c.value for c in wb["fallback_plans"][1]][:2] == ["id", "moment"]


def test_round_trip_yaml_xlsx_yaml(tmp_path):
    reg = load_register(DEMO)
    assert len(reg.systems) == 6
    xlsx = write_workbook(reg, tmp_path / "demo.xlsx")
    back, path = import_workbook(xlsx, tmp_path / "data")
    assert path == tmp_path / "data" / REGISTER_YAML
    assert back == reg
    assert read_yaml(path) == reg
    # dates are real date cells, lists one cell
    ws = load_workbook(xlsx)["drills"]
    assert isinstance(ws["C2"].value, dt.datetime)
    assert ws["E2"].value == "TRD-01; SET-01; WEB-01"


def test_save_register_replaces_atomically(tmp_path):
    reg = register(clean_data())
    target = save_register(tmp_path, reg)
    assert read_yaml(target) == reg
    assert [p.name for p in tmp_path.iterdir()] == [REGISTER_YAML]  # no temporary left behind


def _workbook(tmp_path: Path, edit) -> Path:
    path = write_workbook(register(clean_data()), tmp_path / "in.xlsx")
    wb = load_workbook(path)
    edit(wb)
    wb.save(path)
    return path


def _col(ws, name: str) -> str:
    for c in ws[1]:
        if c.value == name:
            return c.column_letter
    raise KeyError(name)


def _reject(tmp_path: Path, edit) -> list:
    """Import a broken workbook over an existing register: it must fail and leave the register untouched."""
    data = tmp_path / "data"
    existing = save_register(data, Register())
    before = existing.read_bytes()
    xlsx = _workbook(tmp_path, edit)
    with pytest.raises(RegisterError) as ei:
        import_workbook(xlsx, data)
    assert existing.read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == [REGISTER_YAML]
    return ei.value.problems


def test_wrong_sheet_name(tmp_path):
    def edit(wb):
        wb["drills"].title = "Drills 2025"
    problems = _reject(tmp_path, edit)
    assert {(p.sheet, p.message.split(" (")[0]) for p in problems} == {
        ("Drills 2025", "unknown sheet"), ("drills", "sheet missing")}
    assert "template" in str(problems[0])


def test_bad_date(tmp_path):
    def edit(wb):
        ws = wb["impact_analyses"]
        ws[f"{_col(ws, 'date')}3"] = "2025-02-30"
    (p,) = _reject(tmp_path, edit)
    assert (p.sheet, p.row, p.column) == ("impact_analyses", 3, "C (date)")
    assert "2025-02-30" in p.message
    assert str(p).startswith("in.xlsx: sheet impact_analyses, row 3, column C (date): ")


def test_negative_rto(tmp_path):
    def edit(wb):
        ws = wb["impact_analyses"]
        ws[f"{_col(ws, 'rto_minutes')}2"] = -5
        ws = wb["drills"]
        ws[f"{_col(ws, 'achieved_rto_minutes')}4"] = -1
    problems = _reject(tmp_path, edit)
    assert [(p.sheet, p.row, p.column) for p in problems] == [
        ("impact_analyses", 2, "E (rto_minutes)"), ("drills", 4, "J (achieved_rto_minutes)")]
    assert all("greater than or equal to 0" in p.message for p in problems)


def test_unknown_system(tmp_path):
    def edit(wb):
        ws = wb["risk_scenarios"]
        ws[f"{_col(ws, 'system')}2"] = "NOPE"
        ws = wb["drills"]
        ws[f"{_col(ws, 'systems')}2"] = "TRD; GHOST"
    problems = _reject(tmp_path, edit)
    assert {(p.sheet, p.row, p.column, p.message) for p in problems} == {
        ("risk_scenarios", 2, "B (system)", "unknown system 'NOPE' (not in the systems sheet)"),
        ("drills", 2, "E (systems)", "unknown system 'GHOST' (not in the systems sheet)"),
    }


def test_required_cell_empty_bad_enum_and_unknown_column(tmp_path):
    def edit(wb):
        ws = wb["systems"]
        ws[f"{_col(ws, 'owner')}3"] = None
        ws = wb["drills"]
        ws[f"{_col(ws, 'kind')}2"] = "tabletop"
        wb["dr_coverage"].cell(1, 10, "notes")
    problems = _reject(tmp_path, edit)
    # Header problems stop the import before rows are read: the unknown column is reported first.
    assert [(p.sheet, p.row, p.column) for p in problems] == [("dr_coverage", 1, "J (notes)")]

    def edit2(wb):
        ws = wb["systems"]
        ws[f"{_col(ws, 'owner')}3"] = None
        ws = wb["drills"]
        ws[f"{_col(ws, 'kind')}2"] = "tabletop"
    problems = _reject(tmp_path / "2", edit2)
    assert {(p.sheet, p.row, p.column) for p in problems} == {("systems", 3, "C (owner)"),
                                                              ("drills", 2, "B (kind)")}
    assert any("required" in p.message for p in problems)


def test_duplicate_id(tmp_path):
    def edit(wb):
        ws = wb["impact_analyses"]
        ws[f"{_col(ws, 'id')}3"] = "BIA-TRD"
    (p,) = _reject(tmp_path, edit)
    assert (p.sheet, p.row, p.column) == ("impact_analyses", 3, "A (id)")
    assert "duplicate id 'BIA-TRD'" in p.message


def test_not_a_workbook(tmp_path):
    bad = tmp_path / "x.xlsx"
    bad.write_text("not a zip", encoding="utf-8")
    with pytest.raises(RegisterError, match="not an XLSX workbook"):
        import_workbook(bad, tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_yaml_errors_name_section_record_and_field(tmp_path):
    (tmp_path / REGISTER_YAML).write_text(
        "systems:\n  - {id: A, name: a, owner: o}\nimpact_analyses:\n"
        "  - {id: B1, system: A, date: 2025-01-01, tolerable_minutes: 10, rto_minutes: 5, rpo_minutes: 1, approver: x}\n"
        "  - {id: B2, system: Z, date: 2025-01-01, tolerable_minutes: 10, rto_minutes: -5, rpo_minutes: 1, "
        "approver: x}\n", encoding="utf-8")
    with pytest.raises(RegisterError) as ei:
        load_register(tmp_path)
    assert [(p.sheet, p.row, p.column) for p in ei.value.problems] == [("impact_analyses", 2, "rto_minutes")]


def test_data_dir_without_register(tmp_path):
    with pytest.raises(RegisterError, match="no register here"):
        load_register(tmp_path)


def test_xlsx_in_the_data_dir_is_read(tmp_path):
    reg = register(clean_data())
    write_workbook(reg, tmp_path / "continuity.xlsx")
    assert load_register(tmp_path) == reg


def test_fuzz_regression_yaml_not_utf8(tmp_path):
    from ccinspect.continuity.store import RegisterError, read_yaml

    p = tmp_path / "continuity.yaml"
    p.write_bytes(b"\x80")  # was UnicodeDecodeError
    with pytest.raises(RegisterError, match="continuity.yaml: cannot read"):
        read_yaml(p)
