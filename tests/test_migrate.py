"""costwise migrate --from-redis against a real redis-server (started by .ci/run, or by these tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.helpers import REPO, free_port, redis_server

redis = pytest.importorskip("redis")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("COSTWISE_TEST_REDIS_URL")
    if url:
        yield url
        return
    yield from redis_server(tmp_path_factory.mktemp("redis"))


@pytest.fixture
def server(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.flushall()
    client.close()


def _migrate_while(redis_url, traffic, sample="4s"):
    """Run `costwise migrate --from-redis` and send `traffic` inside its sampling window."""
    watcher = redis.Redis.from_url(redis_url)
    before = watcher.info("clients")["connected_clients"]
    proc = subprocess.Popen([sys.executable, "-m", "costwise", "migrate", "--from-redis", redis_url, "--sample", sample, "--format", "json"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while watcher.info("clients")["connected_clients"] <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # its first INFO has been answered
    traffic()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_big_values_are_billed_by_the_kilobyte(redis_url, server):
    value = b"v" * 3072
    for i in range(2000):
        server.set(f"item:{i:05d}", value)

    def traffic():
        client = redis.Redis.from_url(redis_url)
        for i in range(1500):
            client.get(f"item:{i:05d}")
        client.close()

    data = _migrate_while(redis_url, traffic)
    # stored: 2,000 x 3,072 = 6,144,000 bytes of values, plus keys and per-key overhead
    stored = data["storage_gb"] * 2**30
    assert 6_144_000 <= stored <= 1.3 * 6_144_000
    # sent: 1,500 GETs, each 3,072 bytes back (+ a few bytes of protocol): 3 KB = 3 ECPUs each,
    # so 1,500 x 3,072 / 1,024 = 4,500 ECPUs, a little more for the protocol bytes
    ecpus = data["ecpu_per_second"] * data["sample_seconds"]
    assert 4_500 <= ecpus <= 4_500 * 1.05
    assert data["commands_per_second"] * data["sample_seconds"] == pytest.approx(1500)


def test_small_commands_cost_one_ecpu_each(redis_url, server):
    server.set("counter", 0)

    def traffic():
        client = redis.Redis.from_url(redis_url)
        for _ in range(2000):
            client.incr("counter")
        client.close()

    data = _migrate_while(redis_url, traffic)
    # 2,000 INCRs of a few bytes each: 1 ECPU per command = 2,000 ECPUs
    assert data["ecpu_per_second"] * data["sample_seconds"] == pytest.approx(2000)
    # the bill: valkey minimum 0.1 GB x 0.0837 x 730 = 6.1101 plus the sampled rate's ECPUs
    rate = data["ecpu_per_second"]
    assert data["cost"]["total"] == pytest.approx(6.1101 + rate * 3600 * 730 / 1e6 * 0.00227)
    # peak factor 2 (default): limits cover twice the sampled rate, scaling shows 5x too
    assert [row["traffic_factor"] for row in data["scaling"]] == [1.0, 2.0, 5.0]
    # starting ECPU limit: sampled rate x peak factor 2 x 1.2 headroom x 1.25 burst, two significant figures
    from costwise.limits import nice_ceil

    assert data["recommended"]["max_ecpu_per_second"] == max(1000, nice_ceil(rate * 2 * 1.2 * 1.25))
    assert any("not a month" in n for n in data["notes"])


def test_unreachable_server_is_one_line(cli):
    result = cli("migrate", "--from-redis", f"redis://127.0.0.1:{free_port()}", "--sample", "1s")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("costwise: error: cannot connect to redis://127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_wrong_password_is_one_line(cli, redis_url, server):
    server.execute_command("ACL", "SETUSER", "costwise-test", "on", ">right", "+info")
    try:
        bad = redis_url.replace("redis://", "redis://costwise-test:Hunter2-secret@")
        result = cli("migrate", "--from-redis", bad, "--sample", "1s")
        assert result.returncode == 1
        assert "authentication failed" in result.stderr.strip().splitlines()[-1]
        assert "Hunter2-secret" not in result.stderr  # the password is never printed
    finally:
        server.execute_command("ACL", "DELUSER", "costwise-test")
