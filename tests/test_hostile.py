"""Hostile input and faults, through the real CLI in child processes (issue 11).

Every case checks the promise: the exit code, one line on stderr naming what is wrong, no
traceback, no ESC byte anywhere in the output, files intact, and a time (and memory) bound.
AWS faults come from tests/faultserver.py on 127.0.0.1 (forwarding to moto where it can);
Redis cases use a real redis-server.
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
from pathlib import Path

import boto3
import pytest

from tests.awsfakes import put_hourly
from tests.faultserver import FaultServer
from tests.helpers import AS_OF, END, GIB, REPO, START, assert_no_escape, assert_one_line, costwise, redis_server


# ---- files ------------------------------------------------------------------------------------


def test_output_through_a_symlink_writes_its_target_and_keeps_its_mode(tmp_path):
    target = tmp_path / "reports" / "cost.md"
    target.parent.mkdir()
    target.write_text("old report\n")
    os.chmod(target, 0o600)
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    result = costwise("report", "--demo", "--output", str(link))
    assert result.code == 0, result.err
    assert link.is_symlink() and link.resolve() == target  # still a link, to the same file
    assert target.read_text().startswith("## ElastiCache Serverless cost report")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # an existing file keeps its mode
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_output_into_a_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = costwise("report", "--demo", "--format", "json", "--output", str(fifo))
    reader.join(10)
    assert result.code == 0, result.err
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a regular file
    assert json.loads(got[0])["environments"]


def test_output_dash_is_stdout_and_a_folder_is_refused(tmp_path):
    result = costwise("report", "--demo", "--format", "json", "--output", "-")
    assert result.code == 0 and json.loads(result.out)["environments"]
    assert_one_line(costwise("report", "--demo", "--output", str(tmp_path)), 2, str(tmp_path), "folder")
    assert_one_line(costwise("fetch", "--cache", "x", "--output", str(tmp_path)), 2, "folder")


def test_a_write_that_fails_leaves_the_old_file_and_says_so(tmp_path):
    # /proc refuses new files even to root: the old "file" stays as it was
    result = costwise("report", "--demo", "--output", "/proc/version")
    assert_one_line(result, 2, "/proc/version", "cannot write")
    assert Path("/proc/version").read_text().startswith("Linux")


# ---- resource exhaustion ----------------------------------------------------------------------


BOMB = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize("where", ["config", "pricing"])
def test_yaml_alias_bombs_are_refused_fast(tmp_path, where):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB + ("environments:\n  dev:\n    cache: x\n    budget: *i\n" if where == "config" else ""))
    args = ("estimate", "--config", str(bomb)) if where == "config" else ("whatif", "--storage-gb", "1", "--ecpu-per-second", "1", "--pricing", str(bomb))
    result = costwise(*args)
    assert_one_line(result, 2, str(bomb), "aliases are not allowed", seconds=5)
    assert result.max_rss_mb < 200


def test_endless_and_huge_inputs_are_refused_fast(tmp_path):
    result = costwise("whatif", "--storage-gb", "1", "--ecpu-per-second", "1", "--pricing", "/dev/zero")
    assert_one_line(result, 2, "/dev/zero", "is a device, not a regular file", seconds=5)
    assert result.max_rss_mb < 200
    sparse = tmp_path / "history.csv"
    with open(sparse, "wb") as handle:
        handle.truncate(1 << 30)  # 1 GB of nothing, on no disk
    result = costwise("estimate", "--metrics-file", str(sparse))
    assert_one_line(result, 2, str(sparse), "more than costwise reads", seconds=5)
    assert result.max_rss_mb < 200


# ---- leaks and injection -------------------------------------------------------------------


def _history_with_names(path: Path, names: dict[str, str]) -> None:
    """A saved history whose environment and cache names are hostile (env -> cache)."""
    from costwise.sources.history_file import save_history
    from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame

    window = Window(START, END)
    envs = []
    for i, (env, cache) in enumerate(names.items()):
        frame = empty_frame(window)
        frame[["storage_avg_bytes", "storage_max_bytes"]] = GIB
        frame[["ecpu_sum"]] = 3.6e6
        frame[["ecpu_max_minute", "throttled_sum"]] = [6e4, 0.0]
        envs.append(EnvHistory(env=env, cache=cache, engine="valkey", region="us-east-1", limits=CurrentLimits(source="file"),
                               frame=None if i == 0 else frame, error=f"cache {cache} \x1b[31mfailed\x1b[0m" if i == 0 else None))
    save_history(History(window, envs, "cloudwatch"), path)


HOSTILE_NAMES = {
    "broken\x1b]0;pwned\x07": "c0\x1b[2J",
    "=HYPERLINK(\"http://x\")": "+cmd|' /C calc'!A0",
    "-2+3": "@SUM(1)",
    "[bold]rich[/bold]\nsecond line": "c3\x9b31m",
}


def test_control_characters_never_reach_the_terminal_or_reports(tmp_path):
    history = tmp_path / "history.csv"
    _history_with_names(history, HOSTILE_NAMES)
    for args in (("estimate",), ("estimate", "--format", "markdown"), ("report", "--format", "html"), ("report", "--format", "json")):
        result = costwise(*args, "--metrics-file", str(history))
        assert result.code == 1, result.err  # the broken environment: exit 1, the others complete
        assert_no_escape(result)
        assert "\x9b" not in result.out and "\x9b" not in result.err
        assert "Traceback" not in result.err
    # the failed one is one line, shown escaped
    assert "costwise: broken\\x1b]0;pwned\\x07: cache c0\\x1b[2J" in result.err
    # in the terminal table's notes a name's newline stays escaped, while each note has a line of its own
    result = costwise("estimate", "--metrics-file", str(history))
    assert "[bold]rich[/bold]\\nsecond line (c3\\x9b31m, valkey, us-east-1):" in result.out
    assert "\n  • " in result.out and "\\n  • " not in result.out


def test_csv_names_cannot_become_spreadsheet_formulas(tmp_path):
    history = tmp_path / "history.csv"
    _history_with_names(history, HOSTILE_NAMES)
    rows = history.read_text().splitlines()[2:]
    assert all(not row.split(",")[0].lstrip('"').startswith(("=", "+", "-", "@")) for row in rows)
    assert any(row.startswith("'=HYPERLINK") or row.startswith("\"'=HYPERLINK") for row in rows)
    # and costwise reads its own escaping back: the names are what they were
    result = costwise("report", "--metrics-file", str(history), "--format", "json")
    names = {e["env"] for e in json.loads(result.out)["environments"]}
    assert names == set(HOSTILE_NAMES)


def test_redis_passwords_are_never_printed():
    secret = "hunter2-secret"
    for url in (f"redis://127.0.0.1:1/0?password={secret}", f"redis://:{secret}@127.0.0.1:1/0", f"unix:///nonexistent/redis.sock?password={secret}"):
        result = costwise("migrate", "--from-redis", url, "--sample", "1s")
        assert result.code == 1, result.err
        assert secret not in result.out and secret not in result.err
        assert "***" in result.err and "Traceback" not in result.err


# ---- silent wrong answers ----------------------------------------------------------------


@pytest.mark.parametrize("config, needle", [
    ("environments:\n  dev:\n    cache: x\n    budget: .nan\n", "budget: expected a finite number"),
    ("environments:\n  dev:\n    cache: x\n    budget: 5\n  dev:\n    cache: y\n", "duplicate key 'dev'"),
    ("environments:\n  dev:\n    cache: x\n    budget: 5\n    budget: 50\n", "duplicate key 'budget'"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  horizon_hours: 0\n", "sizing.horizon_hours: must be between 1 and 8760"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  headroom: .inf\n", "sizing.headroom: expected a finite number"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  holidays: XX\n", "sizing.holidays: must be 'none' or a country code"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  holidays: US-ZZ\n", "sizing.holidays: US has no subdivision ZZ"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  holidays: [US]\n", "sizing.holidays: expected text"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  timezone: ../../etc/passwd\n", "sizing.timezone: must be an IANA timezone"),
    ("environments:\n  dev: {cache: x}\nsizing:\n  timezone: \"Mars/Olympus\\e[31m\"\n", "sizing.timezone: must be an IANA timezone"),
    ("environments:\n  dev:\n    cache: x\n    limits: {max_storage_gb: .nan}\n", "max_storage_gb: expected a finite number"),
    ("environments:\n  dev:\n    cache: x\n    limits: {max_ecpu_per_second: 1.0e+308}\n", "1e+308 ECPU/s is outside"),
    ("environments:\n  dev: {cache: x}\nreport: {detail: -1}\n", "report.detail: 0..10,000"),
    ("environments:\n  dev: {cache: x}\nreport: {detail: 2.5}\n", "report.detail: expected a whole number"),
    ("environments:\n  dev: {cache: x}\nreport: {details: 3}\n", "details"),
])
def test_config_values_that_would_mislead_are_refused(tmp_path, config, needle):
    path = tmp_path / "costwise.yaml"
    path.write_text(config)
    result = costwise("report", "--demo", "--config", str(path), "--fail-on-budget")
    assert_one_line(result, 2, str(path), needle)
    assert len(result.err) < 300  # no 309-digit numbers, no expanded values


def test_pricing_with_nan_is_refused(tmp_path):
    from tests.helpers import PRICING_FIXTURE

    path = tmp_path / "pricing.yaml"
    path.write_text(PRICING_FIXTURE.read_text().replace("value: 0.0837", "value: .nan", 1))
    assert_one_line(costwise("whatif", "--storage-gb", "1", "--ecpu-per-second", "1", "--pricing", str(path)), 2, "expected a finite number")


COLUMN = {"timestamp": 2, "storage_avg_bytes": 3, "ecpu_sum": 5}


def _set(rows: list[str], line: int, column: str, value: str) -> None:
    """Put `value` in `column` of file line `line` (line 1 is the header comment, 2 the column names)."""
    fields = rows[line - 1].split(",")
    fields[COLUMN[column]] = value
    rows[line - 1] = ",".join(fields)


@pytest.mark.parametrize("edit, needle", [
    (lambda rows: _set(rows, 4, "storage_avg_bytes", "-5"), "line 4, column storage_avg_bytes: -5 is not a usage figure"),
    (lambda rows: _set(rows, 6, "ecpu_sum", "inf"), "line 6, column ecpu_sum: inf is not a usage figure"),
    (lambda rows: rows.insert(4, rows[3]), "line 5: environment 'dev' has 2026-11-18T01:00:00Z twice"),
    (lambda rows: _set(rows, 7, "timestamp", "2026-11-18T04:30:00Z"), "line 7, column timestamp: 2026-11-18T04:30:00Z is not on the hour"),
    (lambda rows: _set(rows, 8, "timestamp", "2027-01-01T00:00:00Z"), "line 8, column timestamp: 2027-01-01T00:00:00Z is outside the header's window"),
    (lambda rows: _set(rows, 9, "ecpu_sum", "lots"), "line 9, column ecpu_sum: 'lots' is not a number"),
    (lambda rows: rows.__setitem__(-1, rows[-1][:40]), "truncated"),  # cut mid-row
    (lambda rows: rows.pop(), "truncated"),  # cut at a row's end: one row short of the header's count
])
def test_history_files_are_validated_row_by_row(tmp_path, edit, needle):
    path = tmp_path / "history.csv"
    _history_with_names(path, {"gone": "c0", "dev": "c1"})
    rows = path.read_text().splitlines()
    edit(rows)
    # a truncated file has no final newline; every other edit keeps it
    path.write_text("\n".join(rows) + ("" if needle == "truncated" and len(rows[-1]) == 40 else "\n"))
    assert_one_line(costwise("estimate", "--metrics-file", str(path)), 2, str(path), needle)


# ---- AWS faults: one environment never sinks the others; nothing hangs -------------------------


@pytest.fixture
def moto_loaded(moto, tmp_path):
    cw = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=moto)
    row = {"storage_avg": GIB, "storage_max": GIB, "ecpu_sum": 3.6e6, "ecpu_max_minute": 6e4, "throttled": 0.0}
    for cache in ("good-cache", "odd-cache"):
        put_hourly(cw, cache, START, [row] * 48)
    return moto


def _config(tmp_path: Path, envs: dict[str, str]) -> Path:
    path = tmp_path / "costwise.yaml"
    path.write_text("environments:\n" + "".join(f"  {name}:\n    cache: {json.dumps(cache)}\n" for name, cache in envs.items()))
    return path


def test_an_empty_cache_name_fails_alone(moto_loaded, tmp_path):
    config = _config(tmp_path, {"good": "good-cache", "blank": ""})
    with FaultServer(moto_loaded, caches=[{"name": "good-cache"}]) as fault:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert result.code == 1, result.err
    envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
    assert envs["good"]["error"] is None and envs["good"]["cost"]["window"]["total"] > 0
    assert "empty name" in envs["blank"]["error"]
    assert result.lines() == ["costwise: blank: cache '': empty name"]


def test_an_unknown_engine_fails_alone(moto_loaded, tmp_path):
    config = _config(tmp_path, {"good": "good-cache", "odd": "odd-cache"})
    with FaultServer(moto_loaded, caches=[{"name": "good-cache"}, {"name": "odd-cache", "engine": "dragonfly"}]) as fault:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", fault.url, "--as-of", AS_OF, "--days", "2", "--format", "json")
    assert result.code == 1, result.err
    envs = {e["env"]: e for e in json.loads(result.out)["environments"]}
    assert envs["good"]["error"] is None
    assert "engine 'dragonfly'" in envs["odd"]["error"]


@pytest.mark.parametrize("fault", ["garbage", "truncate"])
def test_a_garbled_metric_response_is_an_error_naming_the_call(moto_loaded, tmp_path, fault):
    config = _config(tmp_path, {"good": "good-cache"})
    with FaultServer(moto_loaded, caches=[{"name": "good-cache"}], faults={"GetMetricData": fault}) as server:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", server.url, "--as-of", AS_OF, "--days", "2",
                          "--max-attempts", "2")
    assert_one_line(result, 1, "good: GetMetricData", "could not be read")
    assert "no CloudWatch data" not in result.err


def test_a_silent_endpoint_is_given_up_on_at_the_deadline(aws_env, tmp_path):
    config = _config(tmp_path, {"one": "good-cache", "two": "odd-cache"})
    with FaultServer(None, faults={"DescribeServerlessCaches": "hang", "GetMetricData": "hang"}) as server:
        result = costwise("estimate", "--config", str(config), "--endpoint-url", server.url, "--as-of", AS_OF, "--days", "2",
                          "--timeout", "3", timeout=40)
    assert result.code == 1, result.err
    assert result.seconds < 15  # 3 s deadline: one read timeout, no retries past it
    lines = result.lines()
    # both environments are reported, each with what it was waiting for
    assert any(line.startswith("costwise: one: GetMetricData") and "deadline" in line for line in lines), lines
    assert any(line.startswith("costwise: two: GetMetricData") for line in lines), lines
    assert "Traceback" not in result.err


def test_a_garbled_price_list_is_an_error_and_writes_nothing(aws_env, tmp_path):
    from tests.helpers import PRICING_FIXTURE

    target = tmp_path / "pricing.yaml"
    target.write_text(PRICING_FIXTURE.read_text())
    before = target.read_bytes()
    with FaultServer(None, faults={"GetProducts": "garbage"}) as server:
        result = costwise("pricing", "update", "--output", str(target), "--write", "--region", "us-east-1",
                          "--endpoint-url", server.url, "--timeout", "10")
    assert result.code == 1, result.err
    assert "GetProducts" in result.err and "no rate changes" not in result.err
    assert target.read_bytes() == before


# ---- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def redis_without_hello(tmp_path):
    yield from redis_server(tmp_path, "--rename-command", "HELLO", "")  # as old servers, or hardened ones


def test_migrate_speaks_resp2_to_a_server_without_hello(redis_without_hello):
    result = costwise("migrate", "--from-redis", redis_without_hello, "--sample", "1s", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["server"] == redis_without_hello


def test_garbage_from_a_fake_server_is_one_line():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve():  # answers anything with garbage, a few times, then stops
        listener.settimeout(20)
        for _ in range(4):
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(4096)
            conn.sendall(b"+OK\r\n$5\r\nhello\r\n:notanumber\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = costwise("migrate", "--from-redis", f"redis://127.0.0.1:{port}", "--sample", "1s")
    finally:
        listener.close()
    # a URL that is not a Redis server is bad input: one line (after the "sampling ..." progress line)
    assert result.code == 2, result.err
    assert result.lines()[-1].startswith("costwise: error: --from-redis: redis://127.0.0.1:") and "not a Redis or Valkey server" in result.err
    assert len(result.lines()) == 2 and "Traceback" not in result.err and "internal error" not in result.err


# ---- the promise itself: bad input is one line and exit 2 ---------------------------------------


@pytest.mark.parametrize("content", [b"\xff\xfe" + "environments:\n".encode("utf-16-le"), b"\x00\x01\x02\x03binary"])
def test_binary_and_utf16_configs(tmp_path, content):
    path = tmp_path / "costwise.yaml"
    path.write_bytes(content)
    assert_one_line(costwise("estimate", "--config", str(path)), 2, str(path))


@pytest.mark.parametrize("args, needle", [
    (("estimate", "--cache", "x", "--as-of", "0001-01-01"), "--as-of"),
    (("migrate", "--from-redis", "redis://127.0.0.1:1", "--sample", "nan"), "--sample"),
    (("migrate", "--from-redis", "redis://127.0.0.1:1", "--peak-factor", "inf"), "--peak-factor"),
    (("whatif", "--storage-gb", "nan", "--ecpu-per-second", "1"), "--storage-gb"),
    (("whatif", "--storage-gb", "1", "--ecpu-per-second", "1", "--max-ecpu-per-second", "1e308"), "1e+308"),
    (("report", "--demo", "--budget", "nan"), "--budget"),
    (("estimate", "--days", "0"), "--days"),
    (("report", "--demo", "--format", "table"), "--format"),
])
def test_bad_options_are_one_line(args, needle):
    assert_one_line(costwise(*args), 2, needle)


def test_sigint_says_interrupted(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]  # accepts (in the backlog) and never answers
    proc = subprocess.Popen([sys.executable, "-m", "costwise", "migrate", "--from-redis", f"redis://127.0.0.1:{port}", "--sample", "30s"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    listener.close()
    assert proc.returncode == 130
    assert err.decode().strip().splitlines()[-1] == "costwise: interrupted"
    assert b"Traceback" not in err
