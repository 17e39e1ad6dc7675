"""estimate/fetch against moto's server over HTTP on 127.0.0.1, with hand-computed bills.

moto serves CloudWatch; DescribeServerlessCaches is answered by a patched client call (moto
lacks it). Rates (us-east-1, pricing.yaml): valkey $0.0837/GB-h, $0.00227/M ECPU, min 0.1 GB;
redis-oss $0.125/GB-h, $0.0034/M ECPU, min 1 GB. 1 GB = 2^30 bytes.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone

import boto3
import botocore.client
import pytest

from tests.awsfakes import patch_describe, put_hourly, serverless_cache

GIB = 2**30
AS_OF = "2026-11-20T00:00:00Z"
END = datetime(2026, 11, 20, tzinfo=timezone.utc)
START = END - timedelta(days=2)  # --days 2: 48 hours


def _row(storage_gb, ecpu_sum, ecpu_max_minute=None, storage_max_gb=None, throttled=0.0):
    return {
        "storage_avg": storage_gb * GIB,
        "storage_max": (storage_max_gb or storage_gb) * GIB,
        "ecpu_sum": ecpu_sum,
        "ecpu_max_minute": ecpu_max_minute if ecpu_max_minute is not None else ecpu_sum / 60,
        "throttled": throttled,
    }


@pytest.fixture
def loaded(moto, tmp_path):
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    # prod (valkey): 24 h at 2 GB, then 24 h at 0.05 GB (billed 0.1 GB); 3.6 M ECPUs every hour
    put_hourly(cw, "prod-cache", START, [_row(2.0, 3.6e6)] * 24 + [_row(0.05, 3.6e6)] * 24)
    # staging (redis-oss): 0.5 GB (billed 1 GB) and 1 M ECPUs every hour
    put_hourly(cw, "staging-cache", START, [_row(0.5, 1e6)] * 48)
    # dev (valkey): 1 GB and 0.5 M ECPUs, but the first 10 hours have no data (a gap)
    put_hourly(cw, "dev-cache", START, [None] * 10 + [_row(1.0, 5e5)] * 38)
    config = tmp_path / "costwise.yaml"
    config.write_text(
        "region: us-east-1\n"
        "environments:\n"
        "  prod:\n    cache: prod-cache\n    budget: 100\n"
        "  staging:\n    cache: staging-cache\n    limits: {max_storage_gb: 3, max_ecpu_per_second: 2000}\n"
        "  dev:\n    cache: dev-cache\n    engine: valkey\n"
    )
    return config


def _estimate(run, moto, config, *extra):
    code, out, err = run("estimate", "--config", str(config), "--as-of", AS_OF, "--days", "2",
                         "--endpoint-url", moto, "--format", "json", *extra)
    return code, (json.loads(out) if out.strip() else None), err


def _by_env(data):
    return {e["env"]: e for e in data["environments"]}


def test_window_cost_to_the_cent(run, moto, loaded, monkeypatch):
    calls = patch_describe(monkeypatch, [
        serverless_cache("prod-cache", "valkey", max_storage=5, max_ecpu=10000),
        serverless_cache("staging-cache", "redis", max_storage=2, max_ecpu=5000),
        serverless_cache("dev-cache", "valkey"),
        serverless_cache("unrelated", "memcached"),
    ])
    code, data, err = _estimate(run, moto, loaded)
    assert code == 0, err
    assert len(calls) == 2  # 4 caches at 2 a page: DescribeServerlessCaches was paged
    envs = _by_env(data)

    prod = envs["prod"]
    # storage: 24 x 2 x 0.0837 + 24 x 0.1 x 0.0837 = 4.0176 + 0.20088 = 4.21848
    # ECPU: 48 x 3.6e6 = 172.8e6 -> 172.8 x 0.00227 = 0.392256; total 4.610736
    assert prod["cost"]["window"]["storage"] == pytest.approx(4.21848, abs=0.005)
    assert prod["cost"]["window"]["ecpu"] == pytest.approx(0.392256, abs=0.005)
    assert round(prod["cost"]["window"]["total"], 2) == 4.61
    assert prod["limits"]["current"] == {"max_storage_gb": 5, "max_ecpu_per_second": 10000,
                                         "min_storage_gb": None, "min_ecpu_per_second": None, "source": "aws"}
    # busiest minute: 3.6e6 / 60 per minute = 60,000 ECPUs in a minute = 1,000 ECPU/s
    assert prod["usage"]["ecpu_per_second"]["max"] == pytest.approx(1000)
    assert prod["window"] == {"start": "2026-11-18T00:00:00Z", "end": "2026-11-20T00:00:00Z", "hours": 48, "hours_with_data": 48}

    staging = envs["staging"]
    assert staging["engine"] == "redis-oss"  # from DescribeServerlessCaches ("redis")
    # 48 x 1 GB (minimum) x 0.125 = 6.00; 48e6 x 0.0034 / 1e6 = 0.1632; total 6.1632
    assert round(staging["cost"]["window"]["total"], 2) == 6.16
    assert staging["limits"]["current"]["max_storage_gb"] == 2  # AWS wins over the config's 3
    # engine switch: the same usage on valkey, projected flat: 0.5 x 0.0837 x 730 = 30.5505 plus
    # 1e6 x 730 / 1e6 x 0.00227 = 1.6571 -> 32.2076; on redis-oss 1 x 0.125 x 730 + 730 x 0.0034 = 93.732
    valkey = staging["alternatives"]["valkey"]
    assert valkey["projected"] == pytest.approx(32.2076, rel=1e-4)
    assert staging["cost"]["projected_month"]["total"] == pytest.approx(93.732, rel=1e-4)
    assert valkey["saving"] == pytest.approx(93.732 - 32.2076, rel=1e-4)
    assert "valkey" not in prod["alternatives"] and "nodes" in prod["alternatives"]

    dev = envs["dev"]
    # 38 hours with data: 38 x 1 x 0.0837 = 3.1806; 38 x 0.5e6 = 19e6 x 0.00227/1e6 = 0.04313
    assert dev["window"]["hours_with_data"] == 38
    assert round(dev["cost"]["window"]["total"], 2) == round(3.1806 + 0.04313, 2)
    assert any("10 of 48 hours have no data" in w for w in dev["warnings"])
    assert dev["limits"]["action"] == "set"  # no limits at all: the bill is unbounded

    # totals add up
    assert data["totals"]["window"]["total"] == pytest.approx(sum(e["cost"]["window"]["total"] for e in envs.values()))
    assert data["as_of"] == AS_OF


def test_describe_denied_falls_back_to_config_limits(run, moto, loaded, monkeypatch):
    patch_describe(monkeypatch, error_code="AccessDeniedException")
    code, data, err = _estimate(run, moto, loaded)
    assert code == 0, err
    staging = _by_env(data)["staging"]
    assert staging["limits"]["current"]["source"] == "config"
    assert staging["limits"]["current"]["max_storage_gb"] == 3
    assert any("limits taken from costwise.yaml" in w and "access denied" in w for w in staging["warnings"])
    prod = _by_env(data)["prod"]
    assert prod["limits"]["current"]["source"] == "none"
    assert any("engine unknown" in w for w in prod["warnings"])


def test_missing_cache_is_reported_and_others_complete(run, moto, loaded, monkeypatch):
    patch_describe(monkeypatch, [serverless_cache("prod-cache"), serverless_cache("dev-cache")])
    code, data, err = _estimate(run, moto, loaded)
    assert code == 1
    envs = _by_env(data)
    assert envs["staging"]["error"] == "serverless cache 'staging-cache' not found in us-east-1"
    assert envs["prod"]["error"] is None and round(envs["prod"]["cost"]["window"]["total"], 2) == 4.61
    assert "staging: serverless cache 'staging-cache' not found" in err
    assert "Traceback" not in err


def test_throttling_twice_then_complete(run, moto, loaded, monkeypatch):
    """The backend refuses twice with Throttling; botocore's standard retry mode carries on."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.core.exceptions import ServiceException

    class Throttling(ServiceException):
        code = "Throttling"
        message = "Rate exceeded"

    original = CloudWatchBackend.get_metric_data
    seen = {"calls": 0}

    def flaky(self, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] <= 2:
            raise Throttling()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", flaky)
    patch_describe(monkeypatch, [serverless_cache("prod-cache"), serverless_cache("staging-cache", "redis"), serverless_cache("dev-cache")])
    code, data, err = _estimate(run, moto, loaded)
    assert code == 0, err
    assert seen["calls"] == 4  # two refusals, then the one real answer, then the drivers' one call
    assert round(_by_env(data)["prod"]["cost"]["window"]["total"], 2) == 4.61


def test_throttling_that_outlasts_retries(run, moto, loaded, monkeypatch):
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.core.exceptions import ServiceException

    class Throttling(ServiceException):
        code = "Throttling"
        message = "Rate exceeded"

    def always(self, *args, **kwargs):
        raise Throttling()

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", always)
    patch_describe(monkeypatch, [serverless_cache("prod-cache"), serverless_cache("staging-cache", "redis"), serverless_cache("dev-cache")])
    code, data, err = _estimate(run, moto, loaded, "--max-attempts", "2")
    assert code == 1
    assert all("throttled by AWS even after retries" in e["error"] for e in data["environments"])
    assert len([line for line in err.splitlines() if line.startswith("costwise: ")]) == 3


def test_metric_data_denied_is_one_line_per_env(run, moto, loaded, monkeypatch):
    import botocore.client
    from botocore.exceptions import ClientError

    patch_describe(monkeypatch, [serverless_cache("prod-cache"), serverless_cache("staging-cache", "redis"), serverless_cache("dev-cache")])
    describe_patched = botocore.client.BaseClient._make_api_call

    def deny(self, name, params):
        if name == "GetMetricData":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, name)
        return describe_patched(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", deny)
    code, out, err = run("estimate", "--config", str(loaded), "--as-of", AS_OF, "--days", "2", "--endpoint-url", moto)
    assert code == 1
    assert "Traceback" not in err and "Traceback" not in out
    assert "prod: GetMetricData: access denied (AccessDenied)" in err


def test_no_credentials(run, moto, loaded, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    code, out, err = run("estimate", "--config", str(loaded), "--as-of", AS_OF, "--days", "2", "--endpoint-url", moto, "--env", "prod")
    assert code == 1
    assert "prod: GetMetricData: no AWS credentials found" in err


def test_fetch_then_analyse_offline(run, moto, loaded, monkeypatch, tmp_path):
    patch_describe(monkeypatch, [serverless_cache("prod-cache", max_storage=5, max_ecpu=10000),
                                 serverless_cache("staging-cache", "redis"), serverless_cache("dev-cache")])
    saved = tmp_path / "history.csv"
    code, out, err = run("fetch", "--config", str(loaded), "--as-of", AS_OF, "--days", "2", "--endpoint-url", moto, "--output", str(saved))
    assert code == 0, err
    assert saved.is_file() and "wrote" in err
    assert not list(tmp_path.glob(".history.csv.*"))  # no temp file left behind
    code, online, _ = _estimate(run, moto, loaded)
    # offline: no credentials, no endpoint
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    code, out, err = run("estimate", "--metrics-file", str(saved), "--format", "json")
    assert code == 0, err
    offline = json.loads(out)
    for env in ("prod", "staging", "dev"):
        a, b = _by_env(online)[env], _by_env(offline)[env]
        assert b["cost"] == a["cost"]
        assert b["limits"]["current"] == a["limits"]["current"]
        assert b["window"] == a["window"]


def test_unknown_env_and_bad_config(run, moto, loaded, tmp_path):
    code, out, err = run("estimate", "--config", str(loaded), "--env", "qa", "--endpoint-url", moto)
    assert code == 2 and "no environment 'qa'" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("environments:\n  prod:\n    cache: x\n    budjet: 5\n")
    code, out, err = run("estimate", "--config", str(bad))
    assert code == 2 and "environments.prod.budjet: unknown key" in err
    bad.write_text("environments:\n  prod:\n    cache: x\n    budget: lots\n")
    code, out, err = run("estimate", "--config", str(bad))
    assert code == 2 and "environments.prod.budget: expected a number" in err
    code, out, err = run("estimate", "--config", str(loaded), "--as-of", "yesterday")
    assert code == 2 and "--as-of" in err


def test_single_cache_without_config_via_aws_endpoint_url(run, moto, loaded, monkeypatch, tmp_path):
    """--cache NAME needs no costwise.yaml; AWS_ENDPOINT_URL is honoured like --endpoint-url."""
    patch_describe(monkeypatch, [serverless_cache("staging-cache", "redis", max_storage=2, max_ecpu=5000)])
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.chdir(tmp_path / "..")  # no costwise.yaml here
    code, out, err = run("estimate", "--cache", "staging-cache", "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    (env,) = data["environments"]
    assert (env["env"], env["engine"]) == ("staging-cache", "redis-oss")
    assert round(env["cost"]["window"]["total"], 2) == 6.16  # 48 x 1 GB x 0.125 + 48e6 x 0.0034 / 1e6


def test_parquet_without_pyarrow_fails_before_reading_aws(run, moto, loaded, monkeypatch, tmp_path):
    # None in sys.modules makes `import pyarrow` raise ImportError, installed or not
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    calls = []
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", lambda self, name, params: calls.append(name))
    code, out, err = run("fetch", "--config", str(loaded), "--endpoint-url", moto, "--output", str(tmp_path / "h.parquet"))
    assert code == 2 and "Parquet needs pyarrow" in err
    assert calls == []  # refused before any AWS call
    assert not (tmp_path / "h.parquet").exists()


def test_sizing_settings_from_config(run, moto, loaded, monkeypatch):
    patch_describe(monkeypatch, [serverless_cache("prod-cache"), serverless_cache("staging-cache", "redis"), serverless_cache("dev-cache")])
    config = loaded.read_text()
    loaded.write_text(config + "sizing:\n  headroom: 1.0\n")
    code, data, err = _estimate(run, moto, loaded, "--env", "staging")
    assert code == 0, err
    # staging peaks at 0.5 GB; 2 days of history: 0.5 x 2.0 x (1 + 1/2) = 1.5, and two days have not
    # seen 5/7 of the week: x (1 + 1.0 x 5/7) = 2.571 -> 3 GB
    assert data["environments"][0]["limits"]["recommended"]["max_storage_gb"] == 3
    loaded.write_text(config + "sizing:\n  headrom: 1.0\n")
    code, out, err = run("estimate", "--config", str(loaded), "--endpoint-url", moto)
    assert code == 2 and "sizing.headrom: unknown key" in err


def test_history_file_round_trip_keeps_names_and_gaps(tmp_path):
    """Env names that look like numbers stay strings; gaps stay gaps (not zeros) through a CSV."""
    import numpy as np

    from costwise.sources.history_file import load_history, save_history
    from costwise.usage import CurrentLimits, EnvHistory, History, empty_frame
    from costwise.usage import Window

    window = Window(START, END)
    frame = empty_frame(window)
    frame.iloc[5:, :] = 1.5
    history = History(window, [EnvHistory("007", "0042", "valkey", "us-east-1", CurrentLimits(3, 4000, source="aws"), frame, budget=12.5)], "test")
    path = tmp_path / "h.csv"
    save_history(history, path)
    back = load_history(path).environments[0]
    assert (back.env, back.cache, back.budget) == ("007", "0042", 12.5)
    assert back.limits == CurrentLimits(3, 4000, source="aws")
    assert back.frame.iloc[:5].isna().all().all() and (back.frame.iloc[5:] == 1.5).all().all()
    assert np.array_equal(back.frame.index, frame.index)
