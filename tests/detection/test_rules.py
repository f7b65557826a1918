"""The rules file: every way it can be wrong is refused with the field's path, nothing is half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ccinspect.detection.rules import RulesError, load_rules


def _write(tmp_path, mutate) -> Path:
    data = yaml.safe_load(Path(load_rules().source).read_text(encoding="utf-8"))
    mutate(data)
    p = tmp_path / "rules.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_packaged_rules_load_with_types_and_defaults():
    r = load_rules()
    bf = r.rules.brute_force
    assert [w.model_dump() for w in bf.windows] == [{"minutes": 10, "min_failures": 10}, {"minutes": 1440, "min_failures": 20}]
    assert bf.enabled is True and bf.severity == "high" and "CC-18000.3.e" in bf.ref_ids
    assert isinstance(r.rules.password_spraying.max_attempts_per_account, float)
    assert r.rules.stuffing_campaign.suspect.model_dump() == {"min_non_customer_accounts": 1, "min_accounts": 2}
    assert r.rule("new_source").notify_new_address == "after_failures"
    assert len(r.sha256) == 64 and r.source.endswith("logins.yaml")


def _set(path: str, value):
    def mutate(data):
        *parents, last = path.split(".")
        node = data
        for k in parents:
            node = node[int(k)] if isinstance(node, list) else node[k]
        if value is KeyError:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
    return mutate


@pytest.mark.parametrize(("path", "value", "message"), [
    ("rules.brute_force.windows.0.min_failures", -1, "greater than 0"),
    ("rules.brute_force.windows.1.minutes", "ten", "valid integer"),
    ("rules.brute_force.windows", {"minutes": 10}, "valid list"),
    ("rules.credential_stuffing.min_failure_ratio", 1.5, "less than or equal to 1"),
    ("rules.non_customer.min_share", -0.1, "greater than or equal to 0"),
    ("rules.new_source.ipv4_prefix", 40, "less than or equal to 32"),
    ("rules.new_source.notify_new_country", "sometimes", "should match pattern"),
    ("rules.account_takeover.severity", "urgent", "should match pattern"),
    ("rules.account_takeover.notify", "maybe", "valid boolean"),
    ("rules.stuffing_campaign.suspect", 3, "valid dictionary"),
    ("rules.stuffing_campaign.suspect.min_accounts", 0, "greater than or equal to 1"),
    ("shared_address.min_success_accounts", KeyError, "Field required"),
    ("rules.typo", {"max_edit_distance": 1}, "Extra inputs are not permitted"),
    ("rules.brute_force.threshold", 5, "Extra inputs are not permitted"),
    ("run_ref_ids.review", "CC-18000.4.b", "valid list"),
    ("version", 2024.1, "valid string"),
])
def test_bad_rules_name_the_field(tmp_path, path, value, message):
    p = _write(tmp_path, _set(path, value))
    with pytest.raises(RulesError) as exc:
        load_rules(p)
    assert f"field {path}" in str(exc.value) and message in str(exc.value), str(exc.value)
    assert str(p) in str(exc.value)


def test_integral_numbers_and_disabled_rules_are_accepted(tmp_path):
    p = _write(tmp_path, lambda d: (d["rules"]["brute_force"].update(min_failures_per_address=3.0, enabled=False),
                                    d["rules"]["password_spraying"].update(max_attempts_per_account=3)))
    r = load_rules(p)
    assert r.rules.brute_force.min_failures_per_address == 3 and isinstance(r.rules.brute_force.min_failures_per_address, int)
    assert r.rules.brute_force.enabled is False and r.rules.password_spraying.max_attempts_per_account == 3.0


@pytest.mark.parametrize("text", ["- a list\n- of things\n", "rules: [\n", b"\xff\xfe\x00bad"])
def test_unreadable_rules_files(tmp_path, text):
    p = tmp_path / "r.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RulesError, match=str(p).replace("\\", "\\\\")):
        load_rules(p)
    with pytest.raises(RulesError, match="cannot read rules"):
        load_rules(tmp_path / "missing.yaml")
