"""Every error type of the engines is a core InputError: the place travels as fields, the text stays as it was."""

from __future__ import annotations

import pytest

from ccinspect.applicability import (
    ApplicabilityError,
    ProfileError,
    load_profile,
    parse_capital,
    tier_for_capital,
)
from ccinspect.catalog.loader import CatalogError
from ccinspect.continuity import RegisterError, load_register
from ccinspect.continuity.rules import RulesError as ContinuityRulesError
from ccinspect.core.errors import InputError
from ccinspect.detection.adapters import InputError as DetectionInputError
from ccinspect.detection.adapters import expand
from ccinspect.detection.engine import load_allow
from ccinspect.detection.rules import RulesError, load_rules
from ccinspect.reports.model import ReportError


@pytest.mark.parametrize("cls", [ProfileError, ApplicabilityError, CatalogError, RegisterError, ContinuityRulesError,
                                 DetectionInputError, RulesError, ReportError])
def test_every_engine_error_is_an_input_error(cls):
    assert issubclass(cls, InputError) and issubclass(cls, ValueError)


def test_detection_errors_carry_file_and_line(tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("10.0.0.0/8\nnot-an-address\n", encoding="utf-8")
    with pytest.raises(DetectionInputError) as exc:
        load_allow(allow)
    e = exc.value
    assert (e.file, e.line) == (str(allow), 2) and str(e).startswith(f"{allow}: line 2: not an address")
    assert e.text("en") == str(e)  # the place is not said twice
    with pytest.raises(DetectionInputError) as exc:
        expand([str(tmp_path / "nothing*.csv")])
    assert exc.value.file == str(tmp_path / "nothing*.csv")


def test_rules_error_names_the_file(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: [\n", encoding="utf-8")
    with pytest.raises(RulesError) as exc:
        load_rules(bad)
    assert exc.value.file == str(bad) and exc.value.to_dict()["message_id"] == "input.invalid"


def test_profile_errors_carry_file_and_field(tmp_path):
    p = tmp_path / "broker.yaml"
    p.write_text("name: x\ncapital: 0\n", encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        load_profile(p)
    assert exc.value.file == str(p) and exc.value.field == "capital"
    with pytest.raises(ProfileError) as exc:
        parse_capital("lots", field="paid_in_capital")
    assert exc.value.field == "paid_in_capital" and str(exc.value).startswith("paid_in_capital: ")
    with pytest.raises(ApplicabilityError):
        tier_for_capital(-5)


def test_register_error_keeps_every_problem_and_the_first_place(tmp_path):
    d = tmp_path / "reg"
    d.mkdir()
    (d / "continuity.yaml").write_text("systems:\n  - id: A\n", encoding="utf-8")
    with pytest.raises(RegisterError) as exc:
        load_register(d / "continuity.yaml")
    e = exc.value
    assert e.problems and e.file == e.problems[0].source
    assert str(e) == "\n".join(str(p) for p in e.problems)


def test_catalog_error_is_located():
    e = CatalogError("catalog/x.yaml: field 'ref_id': bad")
    assert e.file == "catalog/x.yaml" and str(e) == "catalog/x.yaml: field 'ref_id': bad"
