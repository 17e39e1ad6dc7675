"""costwise report: templates, escaping, budgets, the demo, and the HTML in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from costwise.model.cost import cost_of_hours
from costwise.model.settings import SizingSettings
from costwise.pricing import load_pricing
from costwise.render.html import report as render_html
from costwise.render.markdown import report as render_markdown
from costwise.analysis.estimate import build_report
from costwise.resources import demo_history_path
from costwise.sources.history_file import load_history
from costwise.usage import CurrentLimits, EnvHistory, History
from costwise.usage import Window
from tests.helpers import frame

EVIL = "<script>alert(1)</script>|x"


def hostile_report():
    end = datetime(2026, 10, 31, tzinfo=timezone.utc)
    window = Window(end - timedelta(days=30), end)
    good = EnvHistory(env=EVIL, cache="cache|<b>bold</b>", engine="valkey", region="us-east-1",
                      limits=CurrentLimits(2, 2000, source="aws"), frame=frame(1.0, 3.6e6), budget=10.0)
    broken = EnvHistory(env="broken", cache="gone-cache", engine=None, region="us-east-1",
                        error="serverless cache 'gone-cache' not found in us-east-1")
    history = History(window=window, environments=[good, broken], source="test")
    return build_report(history, load_pricing(), SizingSettings(), "us-east-1", generated_at=end)


def test_markdown_escapes_names_and_shows_failures():
    md = render_markdown(hostile_report())
    assert "<script>" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in md
    assert "cache\\|&lt;b&gt;bold&lt;/b&gt;" in md
    # table rows keep their column count despite the pipe in the name
    row = next(line for line in md.splitlines() if line.startswith("| &lt;script"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # 7 columns
    assert "serverless cache 'gone-cache' not found in us-east-1" in md
    assert "**Could not read:** broken" in md
    # the good environment is complete: 1 GB x 0.0837 x 720 + 3.6e6 x 720 / 1e6 x 0.00227 = 60.264 + 5.88384
    assert "$66.15" in md


def test_html_escapes_names_and_shows_failures():
    html = render_html(hostile_report())
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;|x" in html
    assert "<b>bold</b>" not in html
    assert "serverless cache &#39;gone-cache&#39; not found in us-east-1" in html
    assert html.count("<svg") == 1  # a chart for the good environment only
    # self-contained: nothing fetched from the network
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:""", html)


def test_demo_file_is_what_the_script_makes(tmp_path):
    out = tmp_path / "demo.csv"
    subprocess.run(["python", "scripts/make_demo_data.py", str(out)], check=True, capture_output=True,
                   cwd=os.path.dirname(os.path.dirname(__file__)), env={**os.environ, "PATH": os.path.dirname(os.sys.executable) + os.pathsep + os.environ["PATH"]})
    bundled, fresh = load_history(demo_history_path()), load_history(out)
    assert [e.env for e in bundled.environments] == ["dev", "staging", "prod"]
    for a, b in zip(bundled.environments, fresh.environments, strict=True):
        assert a.meta() == b.meta()
        np.testing.assert_allclose(a.frame.to_numpy(), b.frame.to_numpy(), rtol=1e-12, equal_nan=True)
    limits = {e.env: (e.limits.max_storage_gb, e.limits.max_ecpu_per_second) for e in bundled.environments}
    assert limits == {"dev": (1, 3000), "staging": (2, 5000), "prod": (5, 10000)}


def test_demo_report_numbers_match_the_cost_model(cli):
    result = cli("report", "--demo", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    history = load_history(demo_history_path())
    gib = 2**30
    for env, hist in zip(data["environments"], history.environments, strict=True):
        f = hist.frame
        # valkey: each hour max(avg GB, 0.1) x 0.0837, plus ECPUs x 0.00227 / 1e6
        storage = float(np.sum(np.maximum(f["storage_avg_bytes"].to_numpy() / gib, 0.1)) * 0.0837)
        ecpu = float(f["ecpu_sum"].sum() / 1e6 * 0.00227)
        assert env["cost"]["window"]["storage"] == pytest.approx(storage, rel=1e-9)
        assert env["cost"]["window"]["ecpu"] == pytest.approx(ecpu, rel=1e-9)
        rates = load_pricing().rates("us-east-1", "valkey")
        assert env["cost"]["window"]["total"] == pytest.approx(cost_of_hours(f["storage_avg_bytes"], f["ecpu_sum"], rates).total)
    by_env = {e["env"]: e for e in data["environments"]}
    # dev sits below valkey's 0.1 GB minimum: the next 730 h bill at least 0.1 x 0.0837 x 730 = 6.1101
    assert by_env["dev"]["cost"]["projected_month"]["storage"] == pytest.approx(6.1101, rel=1e-6)
    assert by_env["prod"]["limits"]["action"] == "raise"  # the demo's prod is throttled
    assert data["totals"]["window"]["total"] == pytest.approx(sum(e["cost"]["window"]["total"] for e in data["environments"]))


def test_budget_exit_codes(cli, tmp_path):
    # dev's budget is $5 and its floor alone is $6.11: over budget
    plain = cli("report", "--demo", "--format", "markdown")
    assert plain.returncode == 0 and "over budget: dev" in plain.stderr
    strict = cli("report", "--demo", "--fail-on-budget", "--format", "markdown")
    assert strict.returncode == 3
    assert "**Over budget:** dev" in strict.stdout
    within = cli("report", "--demo", "--env", "staging", "--env", "prod", "--fail-on-budget")
    assert within.returncode == 0, within.stderr
    total = cli("report", "--demo", "--env", "staging", "--budget", "10", "--fail-on-budget", "--format", "json")
    assert total.returncode == 3
    assert json.loads(total.stdout)["totals"]["over_budget"] == ["total"]


def test_output_is_written_atomically(cli, tmp_path):
    out = tmp_path / "report.html"
    result = cli("report", "--demo", "--output", str(out))
    assert result.returncode == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    missing = cli("report", "--demo", "--output", str(tmp_path / "nope" / "r.md"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
var __err = console.error; console.error = function () { window.__errors.push(Array.from(arguments).join(' ')); __err.apply(console, arguments); };
window.addEventListener('load', function () {
  var sizes = Array.from(document.querySelectorAll('svg')).map(function (s) { var r = s.getBoundingClientRect(); return [r.width, r.height]; });
  var out = document.createElement('pre'); out.id = 'probe';
  out.textContent = JSON.stringify({sizes: sizes, errors: window.__errors, width: document.documentElement.scrollWidth, viewport: window.innerWidth});
  document.body.appendChild(out);
});
</script>"""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
def test_html_report_renders_in_chromium(cli, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    report = tmp_path / "report.html"
    assert cli("report", "--demo", "--output", str(report)).returncode == 0
    html = report.read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("<head>", "<head>" + PROBE, 1))

    def run(*args, width=1000):
        return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},2000",
                               "--virtual-time-budget=5000", *args], capture_output=True, text=True, timeout=120)

    dom = run("--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, dom.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert result["errors"] == []
    assert len(result["sizes"]) == 3  # one chart per demo environment
    assert all(w > 300 and h > 150 for w, h in result["sizes"])

    phone = run("--dump-dom", probe.as_uri(), width=390)
    phone_result = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', phone.stdout, re.S).group(1).replace("&quot;", '"'))
    # headless Chromium's narrowest window is 500 px: at that width nothing scrolls sideways
    assert phone_result["viewport"] <= 500
    assert phone_result["width"] <= phone_result["viewport"]

    shot = tmp_path / "shot.png"
    run(f"--screenshot={shot}", report.as_uri())
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[0] > 500 and pixels.shape[1] > 500
    assert float(pixels[..., :3].std()) > 0.05  # not a blank page


def test_github_actions_example_is_a_valid_monthly_workflow():
    import yaml

    from tests.helpers import REPO

    workflow = yaml.safe_load((REPO / "examples/github-actions/monthly-cost-report.yml").read_text())
    # PyYAML reads the bare key `on` as True
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["schedule"][0]["cron"] == "0 6 1 * *"
    assert workflow["permissions"] == {"id-token": "write", "contents": "read"}
    steps = workflow["jobs"]["report"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("aws-actions/configure-aws-credentials") for u in uses)
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    script = next(s["run"] for s in steps if s.get("name") == "Cost report")
    assert "--fail-on-budget" in script and "GITHUB_STEP_SUMMARY" in script
    # every costwise command in the workflow parses with this costwise's options
    from typer.testing import CliRunner

    from costwise.cli import app

    for line in script.splitlines():
        line = line.strip()
        if line.startswith("costwise "):
            args = line.split()[1:]
            result = CliRunner().invoke(app, [args[0], "--help"])
            assert result.exit_code == 0
            options = {a for a in args if a.startswith("--")}
            assert all(o in result.output for o in options), (line, options)


def test_fleet_workflow_example_shards_the_fetch_and_reads_the_folder():
    import yaml
    from typer.testing import CliRunner

    from costwise.cli import app
    from tests.helpers import REPO

    workflow = yaml.safe_load((REPO / "examples/github-actions/fleet-cost-report.yml").read_text())
    shards = workflow["jobs"]["fetch"]["strategy"]["matrix"]["shard"]
    fetch = next(s["run"] for s in workflow["jobs"]["fetch"]["steps"] if s.get("name") == "Fetch shard")
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)}" in fetch and shards == list(range(1, len(shards) + 1))
    report = next(s["run"] for s in workflow["jobs"]["report"]["steps"] if s.get("name") == "Cost report")
    assert workflow["jobs"]["report"]["needs"] == "fetch" and "--metrics-file dataset" in report
    for line in (fetch + report).splitlines():
        line = line.strip()
        if line.startswith("costwise "):
            args = line.split()[1:]
            result = CliRunner().invoke(app, [args[0], "--help"])
            assert result.exit_code == 0 and all(o in result.output for o in args if o.startswith("--")), line


def test_horizon_and_interval_reach_every_label_and_budgets_stay_monthly(run, tmp_path):
    config = tmp_path / "costwise.yaml"
    # dev's demo projection is about $6.27 for 730 h (valkey's 0.1 GB floor: 0.1 x 0.0837 x 730 = 6.11
    # plus ECPUs): $1.45 for 168 h. A $5 monthly budget must still be exceeded: 168 h x (730 / 168).
    config.write_text("environments:\n  dev:\n    cache: storefront-dev-valkey\n    budget: 5\n"
                      "sizing:\n  horizon_hours: 168\n  interval: 0.9\n")
    code, out, err = run("report", "--demo", "--config", str(config), "--format", "json")
    data = json.loads(out)
    assert data["horizon_hours"] == 168 and data["interval"] == 0.9
    dev = next(e for e in data["environments"] if e["env"] == "dev")
    projected, month = dev["cost"]["projected"], dev["cost"]["projected_month"]
    assert projected["hours"] == 168
    assert projected["total"] == pytest.approx(month["total"] * 168 / 730)
    # the 168-hour floor alone: 0.1 x 0.0837 x 168 = 1.406
    assert 1.406 <= projected["total"] < 2
    assert dev["budget"] == {"monthly": 5.0, "exceeded": True}
    assert data["totals"]["projected"]["total"] == pytest.approx(data["totals"]["projected_month"]["total"] * 168 / 730)

    for fmt in ("markdown", "html"):
        code, out, err = run("report", "--demo", "--config", str(config), "--format", fmt)
        assert "168" in out and "90% range" in out, fmt
        assert not any(label in out for label in ("730 h", "730 hours", "80% range")), fmt
    code, out, err = run("estimate", "--demo", "--config", str(config))
    assert "168 h" in out and "90% range" in out and "730 h" not in out


def test_the_example_config_is_valid():
    from costwise.config import dataclass_from_mapping, load_config
    from costwise.model.settings import SizingSettings
    from tests.helpers import REPO

    config = load_config(REPO / "examples" / "costwise.yaml")
    assert list(config.environments) == ["prod", "staging", "dev"]
    assert config.savings_plan_commitment == 0.25
    assert config.cdk_keys == {"max_storage_gb": "redis_max_storage_gb", "max_ecpu_per_second": "redis_max_ecpu"}
    assert dataclass_from_mapping(SizingSettings, config.sizing, "sizing").headroom == 0.20
