"""Recommendations as code: the limits in infrastructure code, read without running it, and patched.

Readers find each limit's exact place (file, line, character span) in three shapes:
- `cdk`: a Python dict of environments (`{"prod": {"redis_max_storage_gb": 5, ...}}`), parsed with
  `ast` and never executed; the key names are settings (costwise.yaml `iac.cdk_keys`);
- `terraform`: `aws_elasticache_serverless_cache` resources (`cache_usage_limits { data_storage {
  maximum = 5 } ecpu_per_second { maximum = 10000 } }`), parsed with python-hcl2;
- `cloudformation`: `AWS::ElastiCache::ServerlessCache` resources in JSON or YAML (`!Ref`-style
  tags read, not resolved), `CacheUsageLimits.DataStorage.Maximum` and `ECPUPerSecond.Maximum`.

A patch replaces only those numbers' characters, so formatting and comments stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from costwise.errors import InputError
from costwise.yamlfile import read_bounded, user_path

MAX_IAC_BYTES = 2 << 20  # 2 MiB: a stack file, not a data dump
FIELDS = ("max_storage_gb", "max_ecpu_per_second")
DEFAULT_CDK_KEYS = {"max_storage_gb": "redis_max_storage_gb", "max_ecpu_per_second": "redis_max_ecpu"}


@dataclass(frozen=True)
class LimitSite:
    """One limit number in one file: where it is and what it says."""

    path: Path
    shape: str  # cdk | terraform | cloudformation
    match: str  # the environment name (cdk) or the cache name (terraform, cloudformation)
    by: str  # "env" or "cache": how `match` is matched
    field: str  # max_storage_gb | max_ecpu_per_second
    value: float
    line: int  # 1-based
    start: int  # character offsets of the number in the file's text
    end: int
    resource: str = ""  # the Terraform resource or CloudFormation logical id


@dataclass
class IacFile:
    path: Path
    shape: str
    text: str
    sites: list[LimitSite] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # resources found without a readable name or limit


def read_text(path: Path) -> str:
    raw = read_bounded(path, "infrastructure file", MAX_IAC_BYTES)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def shape_of(path: Path, text: str) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".tf":
        return "terraform"
    if suffix == ".py":
        return "cdk"
    if suffix in (".json", ".yaml", ".yml", ".template") and "AWS::ElastiCache::ServerlessCache" in text:
        return "cloudformation"
    return None


def read_iac(path: str | Path, cdk_keys: dict[str, str] | None = None) -> list[IacFile]:
    """Every IaC file at `path` (a file, or a folder searched for .py, .tf, .json, .yaml, .yml)."""
    from costwise.iac import cdk, cloudformation, terraform

    root = Path(path)
    user_path(root, "infrastructure file or folder", folder_ok=True)  # a FIFO must not be read as "no changes"
    candidates = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in (".py", ".tf", ".json", ".yaml", ".yml", ".template")
        and not any(part.startswith(".") or part in ("node_modules", "cdk.out", ".terraform") for part in p.relative_to(root).parts))
    files = []
    for candidate in candidates[:2000]:
        text = read_text(candidate)
        shape = shape_of(candidate, text)
        if shape is None:
            continue
        reader = {"cdk": lambda p, t: cdk.read(p, t, cdk_keys or DEFAULT_CDK_KEYS),
                  "terraform": terraform.read, "cloudformation": cloudformation.read}[shape]
        found = reader(candidate, text)
        if found.sites or found.unmatched:
            files.append(found)
    return files
