from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PRICING_FIXTURE, REPO

# Every test, in this process and in the CLI processes it starts, prices with the tests' own
# fixture: refreshing the bundled pricing.yaml must never change what a test expects.
os.environ["COSTWISE_PRICING"] = str(PRICING_FIXTURE)


@pytest.fixture(scope="session")
def prices():
    from costwise.pricing import load_pricing

    book = load_pricing()
    assert book.path == PRICING_FIXTURE
    return book


@pytest.fixture(scope="session")
def valkey(prices):
    return prices.rates("us-east-1", "valkey")


@pytest.fixture(scope="session")
def redis(prices):
    return prices.rates("us-east-1", "redis-oss")


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process, as a user would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("COSTWISE_DEBUG", None)
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), full_env.get("PYTHONPATH", "")) if p)  # this checkout, whatever the cwd
    return subprocess.run(
        [sys.executable, "-m", "costwise", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials and no way to reach a real AWS endpoint or the instance metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto(moto_url, aws_env):
    import requests

    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    return moto_url


@pytest.fixture
def run(capsys, monkeypatch):
    """Run the CLI in this process (so patches of botocore apply): (exit code, stdout, stderr)."""

    def _run(*args: str):
        from costwise.__main__ import main

        monkeypatch.setattr(sys, "argv", ["costwise", *args])
        monkeypatch.delenv("COSTWISE_DEBUG", raising=False)
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return _run
