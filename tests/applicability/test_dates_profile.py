"""ROC dates, capital amounts and broker profiles, including bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from ccinspect.applicability import (
    ProfileError,
    load_profile,
    parse_capital,
    profile_from_mapping,
)
from ccinspect.core.dates import DateParseError, dual, parse_date, to_roc

D = dt.date


@pytest.mark.parametrize("text,expected", [
    ("2023-01-31", D(2023, 1, 31)),
    ("2023/1/31", D(2023, 1, 31)),
    ("112/01/31", D(2023, 1, 31)),
    ("112.1.31", D(2023, 1, 31)),
    ("99/12/31", D(2010, 12, 31)),
    ("民國112年1月31日", D(2023, 1, 31)),
    ("民國 109 年 12 月 11 日", D(2020, 12, 11)),
    ("112年1月31日", D(2023, 1, 31)),
    ("111年1月底", D(2022, 1, 31)),
    ("113年2月底", D(2024, 2, 29)),  # leap year
    ("112年2月底", D(2023, 2, 28)),
    ("116年12月底", D(2027, 12, 31)),
    ("111年底", D(2022, 12, 31)),
    ("2023年1月31日", D(2023, 1, 31)),
    ("１１２／０１／３１", D(2023, 1, 31)),  # full-width digits
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "tomorrow", "112/13/01", "112/02/30", "民國2023年1月1日", "112年", "12345"])
def test_parse_date_rejects_with_the_field_named(text):
    with pytest.raises(DateParseError) as exc:
        parse_date(text, field="--as-of")
    assert "--as-of" in str(exc.value)


def test_roc_round_trip_and_dual():
    for d in (D(1912, 1, 1), D(2020, 12, 11), D(2027, 12, 31)):
        assert parse_date(to_roc(d)) == d
    assert dual(D(2023, 1, 31)) == "2023-01-31 (112/01/31)"


@pytest.mark.parametrize("text,expected", [
    (25_000_000_000, 25_000_000_000),
    ("25000000000", 25_000_000_000),
    ("25,000,000,000", 25_000_000_000),
    ("250億", 25_000_000_000),
    ("250億元", 25_000_000_000),
    ("NT$40億", 4_000_000_000),
    ("2.5e10", 25_000_000_000),
    (2.5e10, 25_000_000_000),
    ("39.99億", 3_999_000_000),
    ("4千萬", 40_000_000),
    ("0", 0),
])
def test_parse_capital(text, expected):
    assert parse_capital(text) == expected


@pytest.mark.parametrize("text", ["-1", "-5億", "lots", "25 billion", "", True])
def test_parse_capital_rejects(text):
    with pytest.raises(ProfileError):
        parse_capital(text)


def test_profile_errors_name_the_field():
    with pytest.raises(ProfileError, match="field 'capital'.*negative"):
        profile_from_mapping({"capital": "-3億"})
    with pytest.raises(ProfileError, match="field 'e_trading_share'.*0–100"):
        profile_from_mapping({"capital": "50億", "e_trading_share": 120})
    with pytest.raises(ProfileError, match="field 'captial'.*unknown field"):
        profile_from_mapping({"captial": "50億"})
    with pytest.raises(ProfileError, match="field 'capital'"):
        profile_from_mapping({"name": "no capital"})
    with pytest.raises(ProfileError, match="field 'fiscal_year_end'"):
        profile_from_mapping({"capital": 1, "fiscal_year_end": "02-30"})


def test_profile_file_yaml_and_json(tmp_path):
    y = tmp_path / "b.yaml"
    y.write_text("name: 測試證券\ncapital: 250億\ninternet_orders: true\ne_trading_share: '62.5%'\n"
                 "fiscal_year_end: '6-30'\nlast_performed:\n  health-check: 112/05/10\n", encoding="utf-8")
    p = load_profile(y)
    assert (p.name, p.capital, p.e_trading_share, p.fiscal_year_end) == ("測試證券", 25_000_000_000, 62.5, "06-30")
    assert p.last_performed == {"health-check": D(2023, 5, 10)}
    j = tmp_path / "b.json"
    j.write_text('{"capital": "2.5e10", "voice_orders": true}', encoding="utf-8")
    assert load_profile(j).voice_orders is True
    bad = tmp_path / "bad.yaml"
    bad.write_text("capital: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="bad.yaml: not valid YAML"):
        load_profile(bad)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.yaml")


# Regressions found by tests/fuzz/test_fuzz_applicability.py.

def test_fuzz_regression_capital_stays_exact_and_bounded():
    assert parse_capital("1,234,567,890.123億") == 123_456_789_012_300_000  # was 123456789012299984 (float)
    assert parse_capital("123456789012345678") == 123_456_789_012_345_678  # was ...680
    for bad in ("1e999", float("inf"), float("nan"), 10**30, "9" * 400):  # were OverflowError / ValueError
        with pytest.raises(ProfileError, match="^capital: "):
            parse_capital(bad)


def test_fuzz_regression_one_digit_roc_year():
    assert parse_date("民國9年1月1日") == D(1920, 1, 1)  # to_roc_zh(1920-01-01) did not read back


def test_fuzz_regression_profile_bytes_and_odd_keys(tmp_path):
    p = tmp_path / "broker.yaml"
    p.write_bytes(b"name: x\ncapital: 1\n\x80")
    with pytest.raises(ProfileError, match=r"broker.yaml: line 3: not UTF-8"):  # was UnicodeDecodeError
        load_profile(p)
    with pytest.raises(ProfileError) as exc:  # a key with a line break made a problem span two lines
        profile_from_mapping({"capital": 1, "\x1e": {}, "last_performed": {"\r": ""}}, "broker.yaml")
    lines = str(exc.value).splitlines()
    assert len(lines) == 2 and all(ln.startswith("broker.yaml: field '") for ln in lines)
