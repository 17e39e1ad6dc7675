"""Hostile numbers (issue 23): a number a user can type (an option, costwise.yaml, pricing.yaml) is
bounded where it is validated, to what is physically meaningful, so no arithmetic on it overflows;
each is one line naming the field and exit 2, never "internal error".
"""

from __future__ import annotations

import pytest

from tests.helpers import PRICING_FIXTURE, Result, costwise

NINES_400 = "9" * 400  # an integer YAML reads exactly, too big for a float (about 1e400 > 1.8e308)
NINES_5000 = "9" * 5000  # past the 4,300 digits Python converts from text at all


def assert_one_line(result: Result, *needles: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = result.lines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert len(lines[0]) < 400, lines[0]  # never the 400 digits back
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("config, needle", [
    (f"environments:\n  dev:\n    cache: x\n    budget: {NINES_400}\n",
     "environments.dev.budget: must be between 0 and 1,000,000,000,000, got 9999"),
    (f"environments:\n  dev:\n    cache: x\n    limits: {{max_storage_gb: {NINES_400}}}\n",
     "limits.max_storage_gb: a 400-digit number GB is outside AWS's range 1..5000 GB"),
    (f"environments:\n  dev:\n    cache: x\n    limits: {{max_ecpu_per_second: -{NINES_400}}}\n",
     "limits.max_ecpu_per_second: a 400-digit number ECPU/s is outside AWS's range"),
    (f"environments:\n  dev: {{cache: x}}\nsavings_plan: {{commitment_per_hour: {NINES_400}}}\n",
     "savings_plan.commitment_per_hour: must be between 0 and"),
    (f"environments:\n  dev:\n    cache: x\n    budget: {NINES_5000}\n", "a number too large at line 4"),
])
def test_huge_integers_in_costwise_yaml_are_one_line(tmp_path, config, needle):
    path = tmp_path / "costwise.yaml"
    path.write_text(config)
    assert_one_line(costwise("report", "--demo", "--config", str(path)), str(path), needle)


@pytest.mark.parametrize("old, new, needle", [
    # the largest price any field may hold is 1,000,000 (US dollars, GiB or vCPUs): 1e308 would overflow a bill
    ("value: 0.0837", "value: 1.0e+308", "storage_per_gb_hour.value: at most 1,000,000, got 1e+308"),
    ("value: 0.0837", f"value: {NINES_400}", "storage_per_gb_hour.value: at most 1,000,000, got 9999"),
    ("hours_per_month: 730", f"hours_per_month: {NINES_400}", "units.hours_per_month: at most 744, got 9999"),
    ("value: 0.0837", f"value: {NINES_5000}", "a number too large at line"),
])
def test_huge_numbers_in_pricing_yaml_are_one_line(tmp_path, old, new, needle):
    path = tmp_path / "pricing.yaml"
    text = PRICING_FIXTURE.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = costwise("whatif", "--storage-gb", "1", "--ecpu-per-second", "1000", "--compare-nodes", "--pricing", str(path))
    assert_one_line(result, str(path), needle)


# The bounds, by hand: one serverless cache holds at most 5,000 GB and serves 15,000,000 ECPU/s;
# with limits.py's margin of 2 that is 10,000 GB and 30,000,000 ECPU/s; a request costs at least one
# ECPU, so at most 30,000,000 x 86,400 = 2.592e12 requests a day; a value is at most 512 MiB = 524,288 KB.
@pytest.mark.parametrize("args, needle", [
    (["--storage-gb", "1e308", "--ecpu-per-second", "1000"], "--storage-gb: 1e+308 is more than one serverless cache can use (at most 10,000 GB)"),
    (["--storage-gb", "10001", "--ecpu-per-second", "1000"], "--storage-gb: 10,001 is more than one serverless cache can use"),
    (["--storage-gb", "1", "--ecpu-per-second", "1e300"], "--ecpu-per-second: 1e+300 is more than one serverless cache can use (at most 30,000,000 ECPU/s)"),
    (["--storage-gb", "1", "--requests-per-day", "1e300"], "--requests-per-day: 1e+300 is more than one serverless cache can use"),
    (["--storage-gb", "1", "--requests-per-day", "1000", "--kb-per-request", "1e300"], "--kb-per-request: 1e+300 is more than"),
    (["--storage-gb", "1", "--requests-per-day", "1000", "--ecpu-per-request", "1e300"], "--ecpu-per-request: 1e+300 is more than"),
    # each within its bound, but together 2e12 requests x 500,000 KB: 1.157e13 ECPU/s
    (["--storage-gb", "1", "--requests-per-day", "2e12", "--kb-per-request", "500000"],
     "--requests-per-day: 1.15741e+13 ECPU/s is more than one serverless cache can serve"),
])
def test_whatif_options_are_bounded_before_any_arithmetic(args, needle):
    assert_one_line(costwise("whatif", *args, "--compare-nodes", "--compare-engine", "redis-oss"), needle)


def test_whatif_bounds_are_inclusive():
    # 10,000 GB and 30,000,000 ECPU/s are above AWS's largest limits: priced, with a warning each;
    # a GB or an ECPU/s more is refused
    result = costwise("whatif", "--storage-gb", "10000", "--ecpu-per-second", "30000000", "--compare-nodes", "--format", "json")
    assert result.code == 0, result.err
    assert "above the largest storage limit" in result.out and "above the largest ECPU limit" in result.out
    assert_one_line(costwise("whatif", "--storage-gb", "10000", "--ecpu-per-second", "30000001"),
                    "--ecpu-per-second: 30,000,001 is more than one serverless cache can use")


def test_a_remaining_overflow_is_named_not_an_internal_error(monkeypatch, capsys):
    # the field validators bound every number; should arithmetic still overflow, the user is told
    # it was a number too large, exit 2, never "internal error"
    import costwise.__main__ as entry

    def overflowing(**kwargs):
        return 10.0 ** 400  # OverflowError (34, 'Numerical result out of range'), as float math on a typed value would

    monkeypatch.setattr(entry, "app", overflowing)
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("costwise: error: a number given is too large to compute with (OverflowError"), err
