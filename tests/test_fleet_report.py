"""Reports that scale (issue 13, in part): a fleet's Markdown fits a PR comment, HTML details only
the caches that need action or cost the most, JSON keeps everything."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from costwise.sources.history_file import save_history
from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame

GIB = 2**30
END = datetime(2026, 11, 20, tzinfo=timezone.utc)


def _fleet(path, caches: int) -> None:
    """`caches` flat caches over two days, each a little bigger than the last (so cost orders them);
    every fortieth (ten of 400) with a 1 GB storage limit its 2.5 GB peaks exceed (action: raise)."""
    window = Window(END - timedelta(days=2), END)
    envs = []
    for i in range(caches):
        frame = empty_frame(window)
        frame["storage_avg_bytes"] = (1 + i / 100) * GIB
        frame["storage_max_bytes"] = (1 + i / 100) * 1.25 * GIB
        frame["ecpu_sum"] = 3.6e6
        frame["ecpu_max_minute"] = 6e4
        frame["throttled_sum"] = 0.0
        limits = CurrentLimits(max_storage_gb=1 if i % 40 == 0 else 100, max_ecpu_per_second=5000, source="file")
        envs.append(EnvHistory(env=f"team-{i:04d}", cache=f"cache-{i:04d}", engine="valkey", region="us-east-1", limits=limits, frame=frame))
    save_history(History(window, envs, "cloudwatch"), path)


def test_a_fleet_report_stays_readable(cli, tmp_path):
    history = tmp_path / "fleet.csv"
    _fleet(history, 400)
    markdown = cli("report", "--metrics-file", str(history), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    text = markdown.stdout
    assert len(text) < 60_000  # a PR comment takes 65,536
    assert "more |" in text and "every cache is in the JSON report" in text
    # full detail for the default 25: the ten that must raise a limit come first, then the costliest
    sections = [line for line in text.splitlines() if line.startswith("### team-")]
    assert len(sections) == 25
    assert sections[:10] == [f"### team-{i:04d} (cache-{i:04d}, valkey, us-east-1)" for i in range(360, -1, -40)]
    assert [line[4:13] for line in sections[10:12]] == ["team-0399", "team-0398"]
    # sentences that name caches name ten, then count: all 400 are Valkey, so all are in the plan
    plan = next(line for line in text.splitlines() if "Database Savings Plan (Valkey:" in line)
    assert "team-0009, and 390 more)" in plan and len(plan) < 1000
    html = cli("report", "--metrics-file", str(history), "--format", "html").stdout
    assert html.count("<svg") == 25 and html.count("<tr>") >= 400  # every cache in the table, 25 charts
    data = json.loads(cli("report", "--metrics-file", str(history), "--format", "json").stdout)
    assert len(data["environments"]) == 400


def test_a_small_report_is_unchanged(cli):
    text = cli("report", "--demo").stdout
    assert "more |" not in text and [line[4:11] for line in text.splitlines() if line.startswith("### ")] == ["dev (st", "staging", "prod (s"]


def test_markdown_fits_even_when_every_cache_asks_for_detail(cli, tmp_path):
    history = tmp_path / "fleet.csv"
    _fleet(history, 400)
    config = tmp_path / "costwise.yaml"
    config.write_text("report: {detail: 10000}\n")
    text = cli("report", "--metrics-file", str(history), "--config", str(config), "--format", "markdown").stdout
    sections = [line for line in text.splitlines() if line.startswith("### team-")]
    # 400 sections of ~1 KB cannot fit in 60,000 characters: fewer, chosen by priority (the ten raise first)
    assert len(text) < 60_000 and 10 < len(sections) < 400
    assert sections[0].startswith("### team-0360") and sections[10].startswith("### team-0399")


def test_markdown_that_cannot_shrink_enough_is_cut_at_a_line(monkeypatch):
    from costwise import app
    from costwise.options import SourceOptions
    from costwise.render import markdown, view

    report = app.estimate(SourceOptions(demo=True))
    full = markdown.report(report)
    # a limit below the summary and mermaid chart alone: no rows and no detail still do not fit
    monkeypatch.setattr(view, "MARKDOWN_LIMIT", 400)
    text = markdown.report(report)
    assert len(full) > 3000 and len(text) < 400
    assert text.endswith("every cache is in the JSON report, `--format json`)_\n")
    assert full.startswith(text[: text.rindex("\n\n_(cut")])  # a prefix of the whole, cut at a line


def _two_accounts(path) -> None:
    """Account "big": three Redis OSS caches of 4 GB; account "small": two Valkey caches of 1 GB."""
    window = Window(END - timedelta(days=2), END)
    envs = []
    for account, engine, gib, count in (("small", "valkey", 1, 2), ("big", "redis-oss", 4, 3)):
        for i in range(count):
            frame = empty_frame(window)
            frame["storage_avg_bytes"] = frame["storage_max_bytes"] = gib * GIB
            frame["ecpu_sum"], frame["ecpu_max_minute"], frame["throttled_sum"] = 3.6e6, 6e4, 0.0
            envs.append(EnvHistory(env=f"{account}/us-east-1/c{i}", cache=f"c{i}", engine=engine, region="us-east-1",
                                   limits=CurrentLimits(100, 5000, source="file"), frame=frame, account=account))
    save_history(History(window, envs, "cloudwatch"), path)


def test_the_fleet_table_groups_by_account_and_shows_the_savings_on_offer(cli, tmp_path):
    history = tmp_path / "accounts.csv"
    _two_accounts(history)
    data = json.loads(cli("report", "--metrics-file", str(history), "--format", "json").stdout)
    envs = {e["env"]: e for e in data["environments"]}
    assert {e["account"] for e in envs.values()} == {"big", "small"}
    scale = 730 / data["horizon_hours"]
    plan = data["totals"]["savings_plan"]
    for env in envs.values():
        offer = env["savings_available"]
        assert offer["month"] == max(offer["options"].values()) and offer["options"][offer["by"]] == offer["month"]
        if env["engine"] == "redis-oss":  # the same usage on Valkey, as a monthly rate
            assert abs(offer["options"]["Valkey"] - env["alternatives"]["valkey"]["saving"] * scale) < 1e-9
    # the plan's expected saving is shared out in proportion to each eligible cache's on-demand cost
    shared = sum(e["savings_available"]["options"].get("Savings Plan", 0.0) for e in envs.values())
    assert plan["environments"] and abs(shared - plan["savings_month"]["expected"]) < 1e-6
    text = cli("report", "--metrics-file", str(history), "--format", "markdown").stdout
    headings = [line.split("**")[1] for line in text.splitlines() if line.startswith("| **account")]
    assert headings == ["account big", "account small"]  # three 4 GB caches cost more than two of 1 GB
    big = next(line for line in text.splitlines() if line.startswith("| **account big**"))
    assert "(3 caches)" in big
    row = next(line for line in text.splitlines() if line.startswith("| big/us-east-1/c0 |"))
    offer = envs["big/us-east-1/c0"]["savings_available"]
    assert row.rstrip(" |").endswith(f"({offer['by']})")
    # report.group_by: none takes the headings away
    (tmp_path / "costwise.yaml").write_text("report:\n  group_by: none\n")
    flat = cli("report", "--metrics-file", str(history), "--format", "markdown", "--config", str(tmp_path / "costwise.yaml")).stdout
    assert "| **account" not in flat and "| big/us-east-1/c0 |" in flat
    (tmp_path / "costwise.yaml").write_text("report:\n  group_by: team\n")
    bad = cli("report", "--metrics-file", str(history), "--config", str(tmp_path / "costwise.yaml"))
    assert bad.returncode == 2 and "report.group_by: choose one of auto, account, region, none" in bad.stderr


def test_the_fleet_table_groups_by_a_tag_from_the_config(cli, tmp_path):
    history = tmp_path / "accounts.csv"
    _two_accounts(history)
    config = tmp_path / "costwise.yaml"
    config.write_text("report: {group_by: 'tag:team'}\nenvironments:\n"
                      "  big/us-east-1/c0: {cache: c0, tags: {team: 'pay|<b>ments</b>'}}\n"
                      "  small/us-east-1/c1: {cache: c1, tags: {team: 'pay|<b>ments</b>'}}\n")
    text = cli("report", "--metrics-file", str(history), "--format", "markdown", "--config", str(config)).stdout
    headings = [line for line in text.splitlines() if line.startswith("| **")][:-1]  # the last is the total
    # the three untagged caches (two 4 GB, one 1 GB) cost more than the tagged pair (4 GB + 1 GB)
    assert [h.split("**")[1] for h in headings] == ["no team tag", "team: pay\\|&lt;b&gt;ments&lt;/b&gt;"]
    assert "(3 caches)" in headings[0] and "(2 caches)" in headings[1]
    data = json.loads(cli("report", "--metrics-file", str(history), "--format", "json", "--config", str(config)).stdout)
    assert {e["env"]: e["tags"] for e in data["environments"]}["big/us-east-1/c0"] == {"team": "pay|<b>ments</b>"}
    config.write_text("environments:\n  x: {cache: c0, tags: [team]}\n")
    bad = cli("report", "--metrics-file", str(history), "--config", str(config))
    assert bad.returncode == 2 and "environments.x.tags" in bad.stderr
