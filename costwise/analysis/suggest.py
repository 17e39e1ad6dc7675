"""`costwise suggest` (and `report --iac`): the recommended limits as a patch to the infrastructure code.

Each limit found in the IaC files (costwise.iac) is matched to an analysed environment, by
environment name (CDK) or cache name (Terraform, CloudFormation). A change replaces only the
number's bytes; the patch is a unified diff `git apply` accepts (costwise.iac.source: git's lines,
git's path quoting). Where the code and the live cache
disagree (DescribeServerlessCaches), that drift is said. Alarms at 75% of each recommended maximum
come as a snippet in the same IaC language.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from costwise.iac import IacScan, LimitSite
from costwise.iac.source import git_lines, git_patch

UNITS = {"max_storage_gb": "GB", "max_ecpu_per_second": "ECPU/s"}


@dataclass(frozen=True)
class LimitChange:
    file: str
    line: int
    env: str
    field: str
    current: float
    recommended: int
    reason: str
    shape: str
    resource: str = ""
    new_line: str = ""  # the changed line as it will read, without its "\n" (for a GitHub suggestion block)


@dataclass
class Suggestion:
    changes: list[LimitChange] = field(default_factory=list)
    diff: str = ""
    matched: dict[str, list[str]] = field(default_factory=dict)  # env -> files
    unmatched_envs: list[str] = field(default_factory=list)
    unmatched_sites: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    alarms: dict[str, str] = field(default_factory=dict)  # shape -> snippet
    failed: list[tuple[str, str]] = field(default_factory=list)  # (env, error): not read, so not advised
    unpatchable: int = 0  # limits found that are not literals of their own (in unmatched_sites): not checked
    files_read: int = 0  # IaC files read to the end (a folder: every candidate file)
    not_read: list[str] = field(default_factory=list)  # "file: why": may hold limits, not read: no "no changes" then
    skipped: list[str] = field(default_factory=list)  # "file: why": links, FIFOs, devices

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [asdict(c) for c in self.changes],
            "matched": dict(self.matched),
            "unmatched_environments": list(self.unmatched_envs),
            "unmatched_in_code": list(self.unmatched_sites),
            "drift": list(self.drift),
            "alarms": dict(self.alarms),
            "diff": self.diff,
            "files_read": self.files_read,
            "not_read": list(self.not_read),
            "skipped": list(self.skipped),
        }


def _number_text(original: str, value: int) -> str:
    """The new number written like the old one (5_000 stays with underscores)."""
    return f"{value:_}" if "_" in original else str(value)


def _display(path) -> str:
    """The path as `git apply` wants it: relative to where costwise runs (run it from the repository root)."""
    return os.path.relpath(path)


def suggest(report, scan: IacScan) -> Suggestion:
    """Changes for every limit in `scan` whose environment `report` analysed and advises otherwise."""
    files = scan.files
    result = Suggestion(files_read=scan.read, not_read=list(scan.not_read), skipped=list(scan.skipped))
    by_env = {e.env: e for e in report.ok if e.advice is not None}
    by_cache = {e.history.cache: e for e in by_env.values()}
    patched: dict[str, list[tuple[LimitSite, int]]] = {}
    for iac in files:
        result.unmatched_sites.extend(f"{_display(iac.path)}: {u}" for u in iac.unmatched)
        result.unpatchable += len(iac.unmatched)
        for site in iac.sites:
            env = by_env.get(site.match) if site.by == "env" else by_cache.get(site.match)
            if env is None:
                result.unmatched_sites.append(f"{_display(site.path)}:{site.line}: {site.match} is not an environment or cache in this report")
                continue
            result.matched.setdefault(env.env, [])
            if _display(site.path) not in result.matched[env.env]:
                result.matched[env.env].append(_display(site.path))
            dimension = env.advice.storage if site.field == "max_storage_gb" else env.advice.ecpu
            live = env.history.limits.max_storage_gb if site.field == "max_storage_gb" else env.history.limits.max_ecpu_per_second
            if env.history.limits.source == "aws" and live is not None and float(live) != site.value:
                result.drift.append(f"{env.env}: {_display(site.path)}:{site.line} says {site.value:g} {UNITS[site.field]}, the cache has "
                                    f"{float(live):g} {UNITS[site.field]}: changed outside the code?")
            if int(dimension.recommended) == site.value:
                continue
            reason = dimension.reasons[-1] if dimension.reasons else ""
            result.changes.append(LimitChange(_display(site.path), site.line, env.env, site.field, site.value, int(dimension.recommended),
                                              reason, site.shape, site.resource))
            patched.setdefault(str(site.path), []).append((site, int(dimension.recommended)))
    result.unmatched_envs = [name for name in by_env if name not in result.matched]
    diffs = []
    for iac in files:
        edits = sorted(patched.get(str(iac.path), []), key=lambda e: e[0].start)
        if not edits:
            continue
        if any(a.end > b.start for (a, _), (b, _) in zip(edits, edits[1:])):  # two limits, one place: never both
            result.unmatched_sites.append(f"{_display(iac.path)}: two limits share one place in the text; not patched")
            result.changes = [c for c in result.changes if c.file != _display(iac.path)]
            continue
        before = after = iac.source.raw
        for site, value in reversed(edits):  # from the end: earlier offsets stay true
            number = _number_text(before[site.start:site.end].decode("utf-8"), value).encode()
            after = after[: site.start] + number + after[site.end:]
        diffs.append(git_patch(before, after, _display(iac.path)))
        # each change's line as git will show it, every change on that line applied (numbers never add lines)
        lines = [line.decode("utf-8").removesuffix("\n") for line in git_lines(after)]
        result.changes = [replace(c, new_line=lines[c.line - 1]) if c.file == _display(iac.path) else c for c in result.changes]
    result.diff = "".join(diffs)
    shapes = sorted({iac.shape for iac in files if iac.sites})
    for shape in shapes:
        snippet = alarm_snippet(shape, [by_env[name] for name in result.matched], report)
        if snippet:
            result.alarms[shape] = snippet
    return result


def _alarm_targets(envs, report):
    """(env, cache, storage threshold in bytes, ECPU threshold per minute) at 75% of the recommended maximums."""
    share = 0.75
    for env in envs:
        gb = env.advice.storage.recommended
        ecpu = env.advice.ecpu.recommended
        yield env.env, env.history.cache, int(share * gb * env.bytes_per_gb), int(share * ecpu * 60)


def alarm_snippet(shape: str, envs, report) -> str:
    """CloudWatch alarms at 75% of each recommended maximum (AWS's advice), in the IaC's own language:
    BytesUsedForCache (Maximum) and ElastiCacheProcessingUnits (Sum a minute), dimension clusterId."""
    targets = list(_alarm_targets(envs, report))
    if not targets:
        return ""
    safe = lambda text: "".join(c if c.isalnum() else "_" for c in text)  # noqa: E731  (identifiers)
    quoted = lambda text: text.replace("\\", "\\\\").replace('"', '\\"')  # noqa: E731
    parts = []
    for env, cache, storage_bytes, ecpu_minute in targets:
        if shape == "terraform":
            for kind, metric, stat, threshold in (("storage", "BytesUsedForCache", "Maximum", storage_bytes),
                                                   ("ecpu", "ElastiCacheProcessingUnits", "Sum", ecpu_minute)):
                parts.append(
                    f'resource "aws_cloudwatch_metric_alarm" "{safe(env)}_{kind}_75" {{\n'
                    f'  alarm_name          = "{quoted(cache)}-{kind}-75pct"\n'
                    f'  namespace           = "AWS/ElastiCache"\n'
                    f'  metric_name         = "{metric}"\n'
                    f'  statistic           = "{stat}"\n'
                    f"  period              = 60\n"
                    f"  evaluation_periods  = 5\n"
                    f"  threshold           = {threshold}\n"
                    f'  comparison_operator = "GreaterThanOrEqualToThreshold"\n'
                    f'  dimensions          = {{ clusterId = "{quoted(cache)}" }}\n'
                    f"}}\n")
        elif shape == "cloudformation":
            for kind, metric, stat, threshold in (("Storage", "BytesUsedForCache", "Maximum", storage_bytes),
                                                   ("Ecpu", "ElastiCacheProcessingUnits", "Sum", ecpu_minute)):
                parts.append(
                    f"  {safe(env).title().replace('_', '')}{kind}Alarm75:\n"
                    f"    Type: AWS::CloudWatch::Alarm\n"
                    f"    Properties:\n"
                    f'      AlarmName: "{quoted(cache)}-{kind.lower()}-75pct"\n'
                    f"      Namespace: AWS/ElastiCache\n"
                    f"      MetricName: {metric}\n"
                    f"      Statistic: {stat}\n"
                    f"      Period: 60\n"
                    f"      EvaluationPeriods: 5\n"
                    f"      Threshold: {threshold}\n"
                    f"      ComparisonOperator: GreaterThanOrEqualToThreshold\n"
                    f'      Dimensions: [{{Name: clusterId, Value: "{quoted(cache)}"}}]\n')
        else:  # cdk
            for kind, metric, stat, threshold in (("storage", "BytesUsedForCache", "Maximum", storage_bytes),
                                                   ("ecpu", "ElastiCacheProcessingUnits", "Sum", ecpu_minute)):
                parts.append(
                    f'cloudwatch.Alarm(self, "{safe(env)}-{kind}-75",\n'
                    f'    metric=cloudwatch.Metric(namespace="AWS/ElastiCache", metric_name="{metric}", statistic="{stat}",\n'
                    f'                             period=Duration.minutes(1), dimensions_map={{"clusterId": "{quoted(cache)}"}}),\n'
                    f"    threshold={threshold}, evaluation_periods=5,\n"
                    f"    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)\n")
    header = {"terraform": "# CloudWatch alarms at 75% of the recommended limits (costwise)\n",
              "cloudformation": "# Add under Resources: CloudWatch alarms at 75% of the recommended limits (costwise)\n",
              "cdk": "# CloudWatch alarms at 75% of the recommended limits (costwise); from aws_cdk import aws_cloudwatch as cloudwatch, Duration\n"}[shape]
    return header + "\n".join(parts)
