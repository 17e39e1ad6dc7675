from __future__ import annotations

import json

import pytest


def _json(cli, *args):
    result = cli("whatif", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_domain_sanity_check_through_the_cli(cli):
    data = _json(cli, "--requests-per-day", "10000000", "--kb-per-request", "1", "--storage-gb", "0.2")
    # 304.17 M ECPUs x $0.00227/M = $0.69; 0.2 GB x 0.0837 x 730 = $12.22; total $12.91
    assert data["ecpu_per_month"] == pytest.approx(304_166_666.67, rel=1e-9)
    assert data["cost"]["ecpu"] == pytest.approx(0.69, abs=0.01)
    assert data["cost"]["storage"] == pytest.approx(12.22, abs=0.01)
    assert data["cost"]["total"] == pytest.approx(12.91, abs=0.01)
    assert data["ceiling"] is None
    assert set(data) >= {"engine", "region", "hours_per_month", "storage_gb", "billed_storage_gb", "ecpu_per_second", "ecpu_per_month", "cost", "ceiling"}


def test_minimum_storage_per_engine(cli):
    valkey = _json(cli, "--storage-gb", "0.05", "--ecpu-per-second", "0")
    assert valkey["billed_storage_gb"] == 0.1
    assert valkey["cost"]["storage"] == pytest.approx(6.11, abs=0.01)  # 0.1 x 0.0837 x 730
    redis = _json(cli, "--engine", "redis-oss", "--storage-gb", "0.5", "--ecpu-per-second", "0")
    assert redis["billed_storage_gb"] == 1.0
    assert redis["cost"]["storage"] == pytest.approx(91.25)  # 1 x 0.125 x 730


def test_ceiling_and_compare_engine(cli):
    data = _json(cli, "--engine", "redis", "--storage-gb", "2", "--ecpu-per-second", "1000",
                 "--max-storage-gb", "10", "--max-ecpu-per-second", "5000", "--compare-engine", "valkey")
    # redis-oss ceiling: 10 x 0.125 x 730 = 912.5; 5000 x 3600 x 730 / 1e6 x 0.0034 = 44.676
    assert data["engine"] == "redis-oss"
    assert data["ceiling"]["storage"] == pytest.approx(912.5)
    assert data["ceiling"]["ecpu"] == pytest.approx(44.676)
    # valkey: 2 x 0.0837 x 730 = 122.202; 1000 x 3600 x 730 / 1e6 x 0.00227 = 5.96556
    assert data["comparison"]["engine"] == "valkey"
    assert data["comparison"]["cost"]["total"] == pytest.approx(122.202 + 5.96556)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--storage-gb", "-1", "--ecpu-per-second", "5"], "--storage-gb must be 0 or more"),
        (["--storage-gb", "1"], "give the traffic"),
        (["--storage-gb", "1", "--ecpu-per-second", "5", "--requests-per-day", "5"], "not both"),
        (["--storage-gb", "1", "--requests-per-day", "5", "--kb-per-request", "0"], "--kb-per-request must be more than 0"),
        (["--storage-gb", "1", "--ecpu-per-second", "5", "--max-storage-gb", "6000"], "outside AWS's range 1..5000"),
        (["--storage-gb", "1", "--ecpu-per-second", "5", "--max-ecpu-per-second", "500"], "outside AWS's range 1,000..15,000,000"),
        (["--storage-gb", "1", "--ecpu-per-second", "5", "--engine", "dragonfly"], "unknown engine 'dragonfly'"),
        (["--storage-gb", "1", "--ecpu-per-second", "5", "--region", "mars-1"], "no prices for region 'mars-1'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, message):
    result = cli("whatif", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_above_limit_warns(cli):
    data = _json(cli, "--storage-gb", "20", "--ecpu-per-second", "5", "--max-storage-gb", "10")
    assert any("evicted" in w for w in data["warnings"])


def test_table_and_markdown(cli):
    table = cli("whatif", "--storage-gb", "0.2", "--ecpu-per-second", "10")
    assert table.returncode == 0 and "$12.22" in table.stdout
    md = cli("whatif", "--storage-gb", "0.2", "--ecpu-per-second", "10", "--format", "markdown", "--compare-engine", "redis-oss")
    assert md.returncode == 0
    assert md.stdout.startswith("| | valkey | redis-oss |")


def test_version_and_help(cli):
    from costwise import __version__

    assert cli("--version").stdout.strip() == f"costwise {__version__}"
    help_text = cli("--help").stdout
    assert "whatif" in help_text


def test_help_does_not_import_heavy_modules():
    import subprocess
    import sys

    code = (
        "import sys; from costwise.cli import app\n"
        "try:\n    app(['whatif', '--storage-gb', '1', '--ecpu-per-second', '1', '--format', 'json'])\n"
        "except SystemExit:\n    pass\n"
        "print('HEAVY=' + ','.join(m for m in ('pandas', 'boto3', 'botocore', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="
