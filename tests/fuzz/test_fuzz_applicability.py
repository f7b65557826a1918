"""Broker profiles, capital amounts and ISO/ROC dates on arbitrary input: a value or our own error."""

from __future__ import annotations

import datetime as dt
import json

import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.fuzz.conftest import scratch

from ccinspect.applicability.profile import (
    BrokerProfile,
    ProfileError,
    load_profile,
    parse_capital,
    profile_from_mapping,
)
from ccinspect.core.dates import DateParseError, parse_date, to_roc, to_roc_zh

FIELDS = list(BrokerProfile.model_fields)

# Text that looks like what brokers write, and text that does not.
amount_text = st.one_of(
    st.text(),
    st.from_regex(r"\A(NT\$|NTD|新台幣)?[-+]?[0-9,，]{1,30}(\.[0-9]{1,5})?([eE][-+]?[0-9]{1,4})?[千萬億]{0,3}(元|NTD)?\Z"),
)
date_text = st.one_of(
    st.text(),
    st.from_regex(r"\A(民國)?[0-9０-９]{1,4}[-/.年／－．][0-9０-９]{1,2}[-/.月／－．]?([0-9０-９]{1,2}日?|底)?\Z"),
    st.from_regex(r"\A[0-9]{1,4}年(底|[0-9]{1,2}月(底|[0-9]{1,2}日)?)?\Z"),
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                        st.dates(), amount_text, date_text)
json_value = st.recursive(json_scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c,
                                                                                            max_size=3), max_leaves=8)


@given(st.one_of(amount_text, st.integers(), st.floats(), st.booleans(), st.none(), st.decimals()))
def test_parse_capital_gives_an_amount_or_a_profile_error(value):
    try:
        amount = parse_capital(value, field="capital")
    except ProfileError as exc:
        assert str(exc).startswith("capital: "), exc
    else:
        assert isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0


@given(st.integers(min_value=0, max_value=10**10), st.sampled_from(["", "億", "萬", "千萬"]),
       st.sampled_from(["{:,}", "{}", "NT${:,}", "新臺幣{}"]), st.sampled_from(["", "元"]))
def test_parse_capital_reads_written_amounts(n, unit, form, suffix):
    mult = {"": 1, "億": 10**8, "萬": 10**4, "千萬": 10**7}[unit]
    assert parse_capital(form.format(n) + unit + suffix) == n * mult


@given(st.one_of(date_text, st.integers(), st.none()))
def test_parse_date_gives_a_date_or_a_date_error(value):
    try:
        d = parse_date(value, field="last_performed.x")
    except DateParseError as exc:
        assert str(exc).startswith("last_performed.x: "), exc
    else:
        assert type(d) is dt.date


@given(st.dates(min_value=dt.date(1912, 1, 1), max_value=dt.date(2910, 12, 31)))
def test_parse_date_reads_back_every_form_it_writes(d):
    assert parse_date(d.isoformat()) == d
    assert parse_date(to_roc(d)) == d
    assert parse_date(to_roc_zh(d)) == d
    assert parse_date(to_roc(d).translate(str.maketrans("0123456789/", "０１２３４５６７８９／"))) == d


profile_maps = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)),
    st.one_of(json_value, st.dictionaries(st.text(max_size=6), st.one_of(date_text, st.dates()), max_size=3)),
    max_size=8,
)


def _profile_error_names_field(exc: ProfileError, where: str) -> None:
    for line in str(exc).splitlines():
        assert line.startswith(f"{where}: "), line
        assert "field '" in line or "expected a mapping" in line, line


@given(st.one_of(profile_maps, json_value))
def test_profile_from_mapping_gives_a_profile_or_names_the_field(data):
    try:
        p = profile_from_mapping(data, "broker.yaml")
    except ProfileError as exc:
        _profile_error_names_field(exc, "broker.yaml")
    else:
        assert isinstance(p, BrokerProfile) and p.capital >= 0


def _dump(data, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(data, default=str, ensure_ascii=False).encode()
    return yaml.safe_dump(data, allow_unicode=True).encode()


@given(st.one_of(
    st.binary(max_size=300),
    st.builds(_dump, profile_maps, st.sampled_from(["json", "yaml"])),
    st.text(max_size=200).map(str.encode),
), st.sampled_from([".yaml", ".yml", ".json"]))
def test_load_profile_on_any_bytes(raw, suffix):
    with scratch() as d:
        path = d / f"broker{suffix}"
        path.write_bytes(raw)
        try:
            p = load_profile(path)
        except ProfileError as exc:
            if "field '" in str(exc):
                _profile_error_names_field(exc, str(path))
            else:  # the file as a whole: unreadable bytes, not YAML/JSON
                assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc).split(": ", 2)[1], exc
        else:
            assert isinstance(p, BrokerProfile)
