"""Hostile input, round 3 (issue 23): leaks and leftovers, user paths, Redis URLs and replies, `apply`.

Each case checks the promise through the real CLI (a child process, or in this process where
botocore is stubbed): the exit code, one line naming what is wrong, and what must not happen
(a secret printed or stored, a file left behind or replaced, a request sent).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tests.awsfakes import steady_cache_config
from tests.faultserver import FaultServer
from tests.helpers import REPO, assert_one_line, costwise, signal_when


# ---- secrets in any URL ---------------------------------------------------------------------------

SECRET = "hunter2-s3cret"


@pytest.mark.parametrize("endpoint", [
    f"http://admin:{SECRET}@127.0.0.1:1",  # nothing listens on port 1: botocore repeats the URL in its error
    f"http://127.0.0.1:1/?password={SECRET}",
    f"http://admin:{SECRET}@127.0.0.1:1/?token={SECRET}&region=x",
])
def test_an_endpoint_password_is_never_printed_nor_stored(aws_env, tmp_path, endpoint):
    common = ("--cache", "c", "--endpoint-url", endpoint, "--max-attempts", "1", "--timeout", "10")
    estimate = costwise("estimate", *common, "--format", "json")
    assert estimate.code == 1, estimate.err
    saved = tmp_path / "history.csv"
    fetch = costwise("fetch", *common, "--output", str(saved))
    assert fetch.code == 1, fetch.err
    for result in (estimate, fetch):
        assert SECRET not in result.out and SECRET not in result.err
    # the error is still there to read, with the URL shown and its secret as ***
    error = json.loads(estimate.out)["environments"][0]["error"]
    assert "127.0.0.1:1" in error and "***" in error
    assert "***" in fetch.err
    assert SECRET not in saved.read_text()  # the history file stores the error, without the secret


@pytest.mark.parametrize("endpoint, needle", [
    (f"http://admin:{SECRET}@[::1", "not a URL costwise can read"),
    ("http://[zz]:80", "not a URL costwise can read"),
    (f"http://admin:{SECRET}@127.0.0.1:99999", "not a URL costwise can read"),
    (f"ftp://admin:{SECRET}@127.0.0.1", "costwise takes http://, https:// URLs"),
])
def test_a_malformed_endpoint_url_is_one_line_before_any_call(aws_env, endpoint, needle):
    for args in (("estimate", "--cache", "c"), ("pricing", "update", "--region", "us-east-1")):
        result = costwise(*args, "--endpoint-url", endpoint, "--timeout", "5")
        assert_one_line(result, 2, "--endpoint-url", needle)
        assert SECRET not in result.err


def test_a_pricing_endpoint_password_is_never_printed(aws_env, tmp_path):
    # past the deadline botocore's URL is named in the message costwise writes itself
    with FaultServer(None, faults={"GetProducts": "hang"}) as server:
        endpoint = server.url.replace("http://", f"http://admin:{SECRET}@")
        result = costwise("pricing", "update", "--region", "us-east-1", "--output", str(tmp_path / "pricing.yaml"),
                          "--endpoint-url", endpoint, "--timeout", "2", timeout=60)
    assert_one_line(result, 1, "GetProducts", "deadline", "admin:***@127.0.0.1")
    assert SECRET not in result.err


def test_redaction_keeps_the_url_readable():
    from costwise.redact import redact_url, redact_urls

    # the password (after the last @ of the authority, as urlsplit reads it) and secret parameters go
    assert redact_url("redis://:p@ss:w0rd@host:6379/0?password=x&db=2") == "redis://:***@host:6379/0?password=***&db=2"
    assert redact_url("rediss://user:pw@[::1]:6380") == "rediss://user:***@[::1]:6380"
    assert redact_url("redis://[::1") == "(an unreadable URL)"
    # inside a message, every URL in it, quoted or not; a URL without secrets is as it was
    message = 'Could not connect to "http://u:secret@h:1/?X-Amz-Security-Token=tok" or http://h:2/ ok'
    assert redact_urls(message) == 'Could not connect to "http://u:***@h:1/?X-Amz-Security-Token=***" or http://h:2/ ok'


# ---- SIGTERM --------------------------------------------------------------------------------------


def _terminate_while_writing(args: list[str], tmp_path: Path, blocked_when) -> tuple[subprocess.Popen, bytes, list[str]]:
    """SIGTERM once `blocked_when(temp)` says costwise is mid-write (tests/helpers.py signal_when)."""
    return signal_when(args, tmp_path, blocked_when, signal.SIGTERM)


def test_sigterm_while_a_report_is_written_to_stdout_cleans_up_and_exits_143(tmp_path):
    # the HTML report (300 KB) is copied from its temporary file into a pipe no one reads: it blocks there
    proc, err, left = _terminate_while_writing(["report", "--demo", "--format", "html", "--output", "-"], tmp_path,
                                               lambda temp: any(temp.iterdir()))
    assert proc.returncode == 143, err
    assert err.decode().strip().splitlines()[-1] == "costwise: terminated"
    assert b"Traceback" not in err
    assert left == []  # no temporary file in the temporary folder


def test_sigterm_while_a_report_is_written_into_a_fifo_cleans_up(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no reader: opening it to write waits, the report already in its temporary file
    proc, err, left = _terminate_while_writing(["report", "--demo", "--output", str(fifo)], tmp_path,
                                               lambda temp: any(temp.iterdir()))
    assert proc.returncode == 143 and b"costwise: terminated" in err, err
    assert left == []
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_sigterm_stops_the_fetch_workers(aws_env, tmp_path):
    # 40 caches over 455 days: 10,920 points a query, 9 queries a GetMetricData call, so about 25
    # calls: enough for the worker processes (PARALLEL_MIN_CALLS, 16); the endpoint trickles, so
    # they are all busy when SIGTERM comes
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n" + "".join(f"  e{i}: {{cache: c{i}}}\n" for i in range(40)))
    marker = f"costwise-test-{os.getpid()}-{time.monotonic_ns()}"
    with FaultServer(None, caches=[{"name": f"c{i}"} for i in range(40)], faults={"GetMetricData": "trickle"}) as server:
        env = {**os.environ, "COSTWISE_TEST_MARKER": marker}
        proc = subprocess.Popen([sys.executable, "-m", "costwise", "estimate", "--config", str(config), "--endpoint-url",
                                 server.url, "--jobs", "2", "--timeout", "120", "--as-of", "2026-11-20T00:00:00Z", "--days", "455"],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_marked(marker)) < 3:  # the parent and its two workers
            time.sleep(0.1)
        assert len(_marked(marker)) >= 3, proc.poll()
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        left = _marked(marker)
        for _ in range(50):  # a worker that is stopping gets a few seconds
            if not left:
                break
            time.sleep(0.2)
            left = _marked(marker)
    assert proc.returncode == 143, err
    assert err.decode().strip().splitlines()[-1] == "costwise: terminated"
    assert left == [], left


def _marked(marker: str) -> list[int]:
    """Processes (costwise and its workers) whose environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


# ---- outputs that are inputs ----------------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes((REPO / "costwise" / "demo" / "history.csv").read_bytes())
    return path


@pytest.mark.parametrize("spelling", ["same", "dotted", "symlink", "hardlink"])
def test_a_report_over_its_own_history_is_refused(history, tmp_path, spelling):
    before = history.read_bytes()
    output = {"same": lambda: history,
              "dotted": lambda: tmp_path / "." / ".." / tmp_path.name / "history.csv",
              "symlink": lambda: (tmp_path / "latest.md").symlink_to(history) or tmp_path / "latest.md",
              "hardlink": lambda: os.link(history, tmp_path / "copy.md") or tmp_path / "copy.md"}[spelling]()
    result = costwise("report", "--metrics-file", str(history), "--output", str(output))
    assert_one_line(result, 2, str(output), "is also an input")
    assert history.read_bytes() == before  # the history untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # and no temporary file


def test_no_output_replaces_any_input(history, tmp_path):
    from tests.helpers import PRICING_FIXTURE

    pricing = tmp_path / "pricing.yaml"
    pricing.write_bytes(PRICING_FIXTURE.read_bytes())
    config = tmp_path / "costwise.yaml"
    config.write_text("environments:\n  prod: {cache: storefront-prod-valkey}\n")
    folder = tmp_path / "dataset"
    folder.mkdir()
    inside = folder / "part.csv"
    inside.write_bytes(history.read_bytes())
    for args, output in [(("--metrics-file", str(history), "--pricing", str(pricing)), pricing),
                         (("--metrics-file", str(history), "--config", str(config)), config),
                         (("--metrics-file", str(folder)), inside)]:  # a file of a dataset folder
        before = output.read_bytes()
        result = costwise("report", *args, "--output", str(output))
        assert_one_line(result, 2, str(output), "is also an input")
        assert output.read_bytes() == before
    # a file that is no input is written as before
    assert costwise("report", "--metrics-file", str(history), "--output", str(tmp_path / "report.md")).code == 0


# ---- owner, mode and long names -----------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_root_rewriting_another_users_file_keeps_its_owner_group_and_mode(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old\n")
    os.chown(target, 1234, 1234)
    os.chmod(target, 0o600)
    result = costwise("report", "--demo", "--output", str(target))
    assert result.code == 0, result.err
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1234, 1234, 0o600)
    assert target.read_text().startswith("## ElastiCache Serverless cost report")


@pytest.mark.parametrize("length", [249, 255])
def test_a_file_name_as_long_as_the_filesystem_allows_is_written(tmp_path, length):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert name_max >= length  # 255 on every Linux filesystem
    target = tmp_path / ("r" * (length - 3) + ".md")
    result = costwise("report", "--demo", "--output", str(target))
    assert result.code == 0, result.err
    assert target.read_text().startswith("## ElastiCache Serverless cost report")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


# ---- user paths that are not regular files --------------------------------------------------------------


@pytest.mark.parametrize("option", ["--config", "--pricing", "--iac"])  # --metrics-file: refused already
def test_a_fifo_given_as_an_input_is_refused_before_it_is_opened(tmp_path, option):
    fifo = tmp_path / "input.yaml"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    args = {"--config": ("estimate", "--config", str(fifo)),
            "--pricing": ("report", "--demo", "--pricing", str(fifo)),
            "--iac": ("suggest", "--demo", "--iac", str(fifo))}[option]
    result = costwise(*args, timeout=30)
    assert_one_line(result, 2, str(fifo), "not a regular file")


def test_a_device_is_refused_as_an_input():
    result = costwise("estimate", "--config", "/dev/tty", timeout=30)  # would wait for a terminal, or fail oddly
    assert_one_line(result, 2, "/dev/tty", "is a device, not a regular file")


# ---- Redis URLs and replies ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["redis://[::1/", "redis://[zz]:6379", "redis://:pw@[::1:6379/0", "rediss://[v1.x]:6379"])
def test_a_malformed_redis_url_is_one_line(url):
    result = costwise("migrate", "--from-redis", url, "--sample", "1s")
    assert_one_line(result, 2, "--from-redis", "not a URL costwise can read")
    assert "pw" not in result.err


def _fake_redis(answer: bytes) -> tuple[socket.socket, int]:
    """A server on 127.0.0.1 that answers the first command with `answer`, then waits a little."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(2)

    def serve():
        listener.settimeout(30)
        try:
            conn, _ = listener.accept()
            conn.recv(4096)
            conn.sendall(answer)
            time.sleep(5)
            conn.close()
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return listener, listener.getsockname()[1]


def test_a_deeply_nested_redis_reply_is_a_named_error():
    listener, port = _fake_redis(b"*1\r\n" * 100_000 + b":1\r\n")  # 100,000 arrays, one inside the other
    try:
        result = costwise("migrate", "--from-redis", f"redis://127.0.0.1:{port}", "--sample", "1s")
    finally:
        listener.close()
    assert result.code == 2, result.err
    assert result.lines()[-1].startswith("costwise: error: --from-redis:") and "nested too deeply" in result.err
    assert "Traceback" not in result.err and "internal error" not in result.err


# ---- apply checks the whole CacheUsageLimits ------------------------------------------------------------------

END = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.fixture
def small_cache(moto, tmp_path):
    """About 2.5 GB at most: costwise recommends a few GB, below a live minimum of 10 GB."""
    config = steady_cache_config(boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto), tmp_path, END)
    return ("--env", "prod", "--config", str(config), "--endpoint-url", moto, "--as-of", "2026-11-20T00:00:00Z", "--days", "3")


def _live_cache_with_minimums(monkeypatch, storage_minimum: int):
    """ElastiCache through a Stubber (moto has no serverless caches): the live limits carry a
    storage Minimum; a ModifyServerlessCache is planned, so that sending one would go unnoticed
    by the stub, and the test asks whether it was consumed."""
    from costwise.sources.aws import AwsSession

    client = boto3.client("elasticache", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response("describe_serverless_caches", {"ServerlessCaches": [{
        "ServerlessCacheName": "prod-cache", "Engine": "valkey", "Status": "available",
        "CacheUsageLimits": {"DataStorage": {"Minimum": storage_minimum, "Maximum": 20, "Unit": "GB"},
                             "ECPUPerSecond": {"Maximum": 10000}}}]})
    stub.add_response("modify_serverless_cache", {"ServerlessCache": {"ServerlessCacheName": "prod-cache"}})
    stub.activate()
    original = AwsSession.client
    monkeypatch.setattr(AwsSession, "client", lambda self, service, region, **kw: client if service == "elasticache" else original(self, service, region, **kw))
    return stub


def _modify_sent(stub) -> bool:
    try:
        stub.assert_no_pending_responses()
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("send", [False, True])
def test_apply_refuses_limits_whose_live_minimum_is_above_the_new_maximum(run, small_cache, monkeypatch, send):
    stub = _live_cache_with_minimums(monkeypatch, storage_minimum=10)
    code, out, err = run("apply", *small_cache, *(("--yes",) if send else ()))
    recommended = json.loads(out[out.index("{"):])["CacheUsageLimits"]["DataStorage"] if not send else None
    assert code == 2, err
    assert not _modify_sent(stub)  # never sent
    lines = [line for line in err.splitlines() if line.strip()]
    assert not any(line.startswith("sent:") for line in lines)
    assert lines[-1].startswith("costwise: error: prod:")
    assert "DataStorage: the cache's Minimum 10 GB is above the new Maximum" in lines[-1]
    assert "lower the Minimum" in lines[-1] and "first" in lines[-1]
    if recommended is not None:  # the dry run shows the request it would send, and the same problem
        assert recommended["Minimum"] == 10 and recommended["Maximum"] < 10
    else:  # and a minimum that fits under the new maximum is sent as before
        stub = _live_cache_with_minimums(monkeypatch, storage_minimum=1)
        code, out, err = run("apply", *small_cache, "--yes")
        assert code == 0, err
        assert _modify_sent(stub)


def test_usage_limits_are_checked_whole():
    from costwise.limits import usage_limits_problems

    fine = {"DataStorage": {"Minimum": 1, "Maximum": 4, "Unit": "GB"}, "ECPUPerSecond": {"Minimum": 1000, "Maximum": 5000}}
    assert usage_limits_problems(fine) == []
    # one problem per dimension, each naming it: a minimum above the maximum, a value outside AWS's range
    problems = usage_limits_problems({"DataStorage": {"Minimum": 10, "Maximum": 4}, "ECPUPerSecond": {"Minimum": 20_000, "Maximum": 5000}})
    assert [p.split(":")[0] for p in problems] == ["DataStorage", "ECPUPerSecond"]
    assert usage_limits_problems({"DataStorage": {"Maximum": 6000}}) == ["DataStorage.Maximum 6,000 GB is outside AWS's range 1..5,000 GB"]
    assert usage_limits_problems({"ECPUPerSecond": {"Minimum": 500, "Maximum": 5000}}) == [
        "ECPUPerSecond.Minimum 500 ECPU/s is outside AWS's range 1,000..15,000,000 ECPU/s"]
