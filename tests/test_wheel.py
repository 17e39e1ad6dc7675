"""The installed package, not only this checkout, must find pricing.yaml and templates/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO


@pytest.fixture(scope="module")
def wheel_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: use the hatchling installed with the test extras, no network needed
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                   check=True, capture_output=True, text=True)
    wheels = list(out.glob("costwise-*.whl"))
    assert len(wheels) == 1
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheels[0])],
                   check=True, capture_output=True, text=True)
    return target


def test_wheel_runs_from_another_directory(wheel_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(wheel_dir)}
    env.pop("COSTWISE_PRICING")  # this test is about the bundled file
    where = subprocess.run([sys.executable, "-c", "import costwise.resources as r; print(r.__file__); print(r.bundled_pricing_path()); print(r.templates_dir())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    # the package, its pricing and its templates all come from the installed wheel
    assert all(Path(p).is_relative_to(wheel_dir) for p in where), where
    assert Path(where[1]).is_file() and Path(where[2]).is_dir()
    result = subprocess.run([sys.executable, "-m", "costwise", "whatif", "--storage-gb", "0.2", "--ecpu-per-second", "0", "--format", "json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # 0.2 GB x the bundled valkey us-east-1 rate x 730 h, whatever `pricing update` last wrote there
    bundled = yaml.safe_load((REPO / "pricing.yaml").read_text())
    rate = bundled["regions"]["us-east-1"]["valkey"]["storage_per_gb_hour"]["value"]
    assert json.loads(result.stdout)["cost"]["storage"] == pytest.approx(0.2 * rate * bundled["units"]["hours_per_month"])
