from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from costwise.errors import InputError
from costwise.pricing import load_pricing
from costwise.pricing.update import dump_pricing
from costwise.resources import bundled_pricing_path
from tests.helpers import PRICING_FIXTURE


def test_bundled_file_has_required_regions_and_sources():
    prices = load_pricing(bundled_pricing_path())
    for region in ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"):
        for engine in ("valkey", "redis-oss", "memcached"):
            rates = prices.rates(region, engine)
            for source in rates.sources.values():
                assert source.source and source.as_of and source.confidence in {"high", "medium", "low"}
    assert prices.hours_per_month == 730
    assert prices.bytes_per_gb == 2**30
    assert prices.rates("ap-southeast-1", "valkey").low_confidence


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(PRICING_FIXTURE.read_text())
    mutate(data)
    path = tmp_path / "pricing.yaml"
    path.write_text(dump_pricing(data))  # no anchors: a mutation may share a mapping
    return path


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["regions"]["us-east-1"]["valkey"].pop("ecpu_per_million"), "regions.us-east-1.valkey.ecpu_per_million: missing field"),
        (lambda d: d["regions"]["us-east-1"]["valkey"]["storage_per_gb_hour"].update(value=-1), "regions.us-east-1.valkey.storage_per_gb_hour.value: expected a number >= 0"),
        (lambda d: d["regions"]["us-east-1"]["valkey"]["storage_per_gb_hour"].update(value="cheap"), "expected a number, got 'cheap'"),
        (lambda d: d["regions"]["us-east-1"].update(dragonfly=d["regions"]["us-east-1"]["valkey"]), "regions.us-east-1.dragonfly: unknown engine"),
        (lambda d: d["units"].pop("hours_per_month"), "units.hours_per_month: missing field"),
        (lambda d: d["regions"].update({"us-esat-one": d["regions"]["us-east-1"]}), "regions.us-esat-one: unknown region"),
        (lambda d: d["regions"]["us-west-2"]["valkey"]["nodes"]["cache.t4g.micro"].pop("vcpu"), "nodes.cache.t4g.micro.vcpu: missing field"),
    ],
)
def test_invalid_pricing_names_the_field(tmp_path, mutate, expected):
    path = _write(tmp_path, mutate)
    with pytest.raises(InputError) as info:
        load_pricing(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_unknown_region_is_an_error(prices):
    with pytest.raises(InputError, match="no prices for region 'mars-1'"):
        prices.rates("mars-1", "valkey")


def test_cli_bad_pricing_file_is_one_line_exit_2(tmp_path, cli):
    path = _write(tmp_path, lambda d: d["regions"]["us-east-1"]["valkey"]["ecpu_per_million"].update(value=-3))
    result = cli("whatif", "--storage-gb", "1", "--ecpu-per-second", "10", "--pricing", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "ecpu_per_million.value" in result.stderr


def test_cli_missing_pricing_file(tmp_path, cli):
    result = cli("whatif", "--storage-gb", "1", "--ecpu-per-second", "10", "--pricing", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "pricing file not found" in result.stderr


def test_pricing_override_changes_the_bill(tmp_path, cli):
    # Doubling valkey storage to 0.1674 $/GB-h: 1 GB x 0.1674 x 730 = 122.202
    path = _write(tmp_path, lambda d: d["regions"]["us-east-1"]["valkey"]["storage_per_gb_hour"].update(value=0.1674))
    import json

    result = cli("whatif", "--storage-gb", "1", "--ecpu-per-second", "0", "--pricing", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["cost"]["storage"] == pytest.approx(122.202)
