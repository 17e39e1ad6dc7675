"""Hostile servers, round 3 (issue 23): deadlines that hold while bytes trickle, answers of bounded size.

An AWS endpoint (tests/faultserver.py) or a Redis server (a socket here) that sends one byte a
second resets a library's read timeout with every byte: only an overall deadline ends the wait.
One that sends a 1 GiB answer would have it held whole. The servers stream, never allocate, and
stop on their own; the CLI runs in a child that is killed as soon as its memory passes the bound,
so a failing case costs seconds and a few hundred MB, not the machine. A bound on wall time here
is a correctness check (the command ends), kept generous: a 3 s deadline, an end within 15 s.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.faultserver import FaultServer
from tests.helpers import Result, costwise

RSS_BOUND_MB = 400  # costwise's own peak is 60..200 MB; the answers here are 1 GiB


def costwise_bounded(*args: str, timeout: float = 60) -> Result:
    """The CLI in a child, killed past `timeout` or as soon as its memory passes RSS_BOUND_MB."""
    return costwise(*args, timeout=timeout, rss_bound_mb=RSS_BOUND_MB)


def assert_one_error(result: Result, code: int, *needles: str) -> None:
    assert result.code == code, (result.code, result.err, result.seconds, result.max_rss_mb)
    last = result.lines()[-1]
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    for needle in needles:
        assert needle in last, (needle, last)


# ---- AWS ------------------------------------------------------------------------------------------

COMMANDS = {
    "estimate": (("DescribeServerlessCaches", "GetMetricData"),
                 ("estimate", "--cache", "c1", "--as-of", "2026-11-20T00:00:00Z", "--days", "2"), "c1: "),
    "pricing update": (("GetProducts",), ("pricing", "update", "--region", "us-east-1", "--output", "{tmp}/pricing.yaml"), "GetProducts"),
    "migrate --from-cluster": (("DescribeReplicationGroups",), ("migrate", "--from-cluster", "shop", "--as-of", "2026-11-20T00:00:00Z",
                                                                "--days", "2"), "DescribeReplicationGroups"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_trickling_endpoint_is_given_up_at_the_deadline(aws_env, tmp_path, command):
    operations, args, needle = COMMANDS[command]
    with FaultServer(None, faults={op: "trickle" for op in operations}) as server:
        result = costwise_bounded(*(a.format(tmp=tmp_path) for a in args), "--endpoint-url", server.url, "--timeout", "3")
    assert result.seconds < 15, (result.seconds, result.err)  # the deadline held: 3 s and a margin
    assert_one_error(result, 1, needle, "deadline")
    assert not (tmp_path / "pricing.yaml").exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_huge_answer_is_refused_as_it_arrives(aws_env, tmp_path, command):
    operations, args, needle = COMMANDS[command]
    with FaultServer(None, faults={op: "huge" for op in operations}) as server:
        result = costwise_bounded(*(a.format(tmp=tmp_path) for a in args), "--endpoint-url", server.url, "--timeout", "60")
    assert result.max_rss_mb < RSS_BOUND_MB, result.max_rss_mb
    assert_one_error(result, 1, needle, "longer than 32 MiB")
    assert server.seen.count(operations[-1]) == 1  # refused once, not retried eight times


# ---- Redis ----------------------------------------------------------------------------------------


class FakeRedis:
    """A server on 127.0.0.1 that answers the first command (INFO) with `answer()`'s bytes as they
    come, then closes; bounded by `seconds` whatever the client does."""

    def __init__(self, answer, seconds: float = 40):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(2)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}"
        self.answer, self.seconds = answer, seconds
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.listener.settimeout(self.seconds)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        end = time.monotonic() + self.seconds
        try:
            conn.recv(4096)
            for piece in self.answer():
                if time.monotonic() > end:
                    break
                conn.sendall(piece)
        except OSError:  # the client left: what the test wants
            pass
        finally:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.listener.close()


def _trickle():
    for byte in b"$4000\r\n# Server\r\nredis_version:7.2.0\r\n" + b"x" * 4000:
        yield bytes([byte])
        time.sleep(1.0)


def _huge():
    yield b"$1073741824\r\n"  # a 1 GiB bulk string, 64 KiB at a time
    chunk = b"x" * 65536
    for _ in range((1 << 30) // len(chunk)):
        yield chunk


def test_a_trickling_redis_server_is_given_up_at_the_deadline():
    with FakeRedis(_trickle) as server:
        result = costwise_bounded("migrate", "--from-redis", server.url, "--sample", "1s", "--timeout", "5")
    assert result.seconds < 15, (result.seconds, result.err)  # 5 s for INFO, bytes that trickle do not reset it
    assert_one_error(result, 1, server.url, "no whole answer to INFO within 5 s")


def test_a_huge_redis_reply_is_refused_as_it_arrives():
    with FakeRedis(_huge) as server:
        result = costwise_bounded("migrate", "--from-redis", server.url, "--sample", "1s", "--timeout", "60")
    assert result.max_rss_mb < RSS_BOUND_MB, result.max_rss_mb
    assert_one_error(result, 2, "--from-redis", "is not a Redis or Valkey server", "longer than 16 MiB")
