from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def prices():
    from costwise.pricing import load_pricing

    return load_pricing()


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
