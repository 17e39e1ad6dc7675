"""costwise.yaml: which caches make up which environments, their budgets and the sizing settings.

Validation is strict (unknown keys are errors) because a typo such as `budjet:` silently ignored
would make a CI budget check pass that should fail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from costwise.errors import InputError
from costwise.fmt import number, printable, shorten
from costwise.limits import MAX_DOLLARS, check_ecpu_limit, check_storage_limit

DEFAULT_CONFIG = "costwise.yaml"


@dataclass(frozen=True)
class ConfiguredLimits:
    max_storage_gb: int | None = None
    max_ecpu_per_second: int | None = None


@dataclass(frozen=True)
class EnvConfig:
    name: str
    cache: str
    engine: str | None = None
    region: str | None = None
    budget: float | None = None
    limits: ConfiguredLimits | None = None
    account: str | None = None  # set for caches found in another account (accounts:, organization:)
    tags: tuple[tuple[str, str], ...] = ()  # `tags:` in costwise.yaml, for report.group_by: tag:NAME


GROUPINGS = ("auto", "account", "region", "none")
TAG_GROUPING = re.compile(r"tag:[^\x00-\x1f\x7f]{1,128}")
MAX_TAGS = 50  # AWS's own limit per resource


def check_tags(where: str, tags: Any) -> tuple[tuple[str, str], ...]:
    """`tags: {team: payments}`: names and values as strings (AWS's lengths: 128 and 256)."""
    if tags is None:
        return ()
    _expect(where, tags, (dict,), "a mapping of tag name to value")
    if len(tags) > MAX_TAGS:
        raise InputError(f"{where}: at most {MAX_TAGS} tags")
    out = []
    for name, value in tags.items():
        _expect(f"{where}.{printable(str(name))[:60]}", value, (str, int, float), "a tag value")
        if not isinstance(name, str) or not 1 <= len(name) <= 128 or len(str(value)) > 256:
            raise InputError(f"{where}.{printable(str(name))[:60]}: a tag name is 1 to 128 characters, a value at most 256")
        out.append((name, str(value)))
    return tuple(out)


@dataclass(frozen=True)
class AccountConfig:
    """Another AWS account read through a role: every serverless cache in its regions."""

    name: str  # "" for the account costwise runs in (no role; rows named REGION/CACHE)
    role_arn: str | None
    regions: tuple[str, ...]
    external_id: str | None = None


@dataclass(frozen=True)
class OrganizationConfig:
    """Every active member account of the AWS Organization, read through the same-named role in each."""

    role_name: str
    regions: tuple[str, ...]
    external_id: str | None = None


ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


@dataclass(frozen=True)
class Config:
    path: Path | None
    region: str
    environments: dict[str, EnvConfig]
    sizing: dict[str, Any] = field(default_factory=dict)
    pricing: Path | None = None
    savings_plan_commitment: float | None = None  # $/hour of Database Savings Plans already bought
    cdk_keys: dict[str, str] | None = None  # the CDK dict's key names for the limits (costwise suggest)
    report_detail: int = 25  # environments shown in full in Markdown and HTML reports (the rest: the table)
    report_group_by: str = "auto"  # the fleet table's groups: account | region | tag:NAME | none | auto
    accounts: tuple[AccountConfig, ...] = ()
    organization: OrganizationConfig | None = None
    drivers: dict[str, Any] = field(default_factory=dict)  # `drivers:` (model.drivers.DriverSettings), checked when used

    def select(self, names: list[str] | None, all_envs: bool) -> list[EnvConfig]:
        if not self.environments:
            raise InputError(f"{self.path}: environments: none defined")
        if all_envs or not names:
            return list(self.environments.values())
        missing = [n for n in names if n not in self.environments]
        if missing:
            known = ", ".join(self.environments)
            raise InputError(f"{self.path}: no environment {missing[0]!r} (known: {known})")
        return [self.environments[n] for n in dict.fromkeys(names)]


def _check_keys(where: str, data: dict, allowed: set[str]) -> None:
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise InputError(f"{where}.{printable(str(unknown[0]))[:60]}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _expect(where: str, value: Any, types: tuple, what: str) -> Any:
    if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
        raise InputError(f"{where}: expected {what}, got {shorten(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where}: expected a finite number, got {shorten(value)}")
    return value


def check_number(where: str, value: Any, low: float, high: float, what: str) -> float:
    """A finite number in low..high. The range is checked before any conversion to float, so an
    integer too big for a float (`budget: 999...9`, 400 digits) is refused by name, never converted."""
    _expect(where, value, (int, float), what)
    if not low <= value <= high:
        raise InputError(f"{where}: must be between {number(low)} and {number(high)}, got {shorten(value)}")
    return float(value)


def check_budget(where: str, value: Any) -> float | None:
    """A monthly budget (costwise.yaml's `budget:`, a history file's header): US dollars, 0 or more."""
    if value is None:
        return None
    return check_number(where, value, 0, MAX_DOLLARS, "a number of US dollars per month")


# CacheUsageLimits' fields and the check of AWS's range for each
LIMIT_CHECKS = {"max_storage_gb": check_storage_limit, "max_ecpu_per_second": check_ecpu_limit,
                "min_storage_gb": check_storage_limit, "min_ecpu_per_second": check_ecpu_limit}


def check_limits(where: str, data: Any, keys: tuple[str, ...] = ("max_storage_gb", "max_ecpu_per_second")) -> dict[str, int | None]:
    """Limits as costwise.yaml (and a history file's header) give them: each a whole number inside
    AWS's range, or absent."""
    _expect(where, data, (dict,), "a mapping")
    _check_keys(where, data, set(keys))
    values = {}
    for key in keys:
        value = data.get(key)
        if value is not None:
            _expect(f"{where}.{key}", value, (int, float), "a number")
        values[key] = LIMIT_CHECKS[key](value, f"{where}.{key}")
    return values


def check_engine(where: str, engine: Any) -> str | None:
    if engine is None:
        return None
    from costwise.pricing import normalize_engine

    _expect(where, engine, (str,), "an engine name")
    try:
        return normalize_engine(engine)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def parse_config(data: Any, path: Path | None) -> Config:
    label = str(path) if path else "config"
    if data is None:
        data = {}
    _expect(f"{label}: (top level)", data, (dict,), "a mapping")
    _check_keys(f"{label}: ", data, {"region", "environments", "sizing", "pricing", "savings_plan", "iac", "report", "accounts", "organization", "drivers"})
    region = _expect(f"{label}: region", data.get("region", "us-east-1"), (str,), "a region name such as us-east-1")
    envs_raw = data.get("environments", {}) or {}
    _expect(f"{label}: environments", envs_raw, (dict,), "a mapping of environment name to settings")
    envs: dict[str, EnvConfig] = {}
    for name, env in envs_raw.items():
        where = f"{label}: environments.{printable(str(name))[:60]}"
        _expect(where, env, (dict,), "a mapping")
        _check_keys(where, env, {"cache", "engine", "region", "budget", "limits", "tags"})
        if "cache" not in env:
            raise InputError(f"{where}.cache: missing (the serverless cache name)")
        # an empty or odd name is not checked here: that environment alone fails when it is read
        cache = _expect(f"{where}.cache", env["cache"], (str,), "a cache name")
        engine = check_engine(f"{where}.engine", env.get("engine"))
        env_region = env.get("region")
        if env_region is not None:
            _expect(f"{where}.region", env_region, (str,), "a region name")
        budget = check_budget(f"{where}.budget", env.get("budget"))
        limits = ConfiguredLimits(**check_limits(f"{where}.limits", env["limits"])) if env.get("limits") is not None else None
        envs[str(name)] = EnvConfig(str(name), cache, engine, env_region, budget, limits, tags=check_tags(f"{where}.tags", env.get("tags")))
    sizing = data.get("sizing", {}) or {}
    _expect(f"{label}: sizing", sizing, (dict,), "a mapping")
    drivers = data.get("drivers", {}) or {}
    _expect(f"{label}: drivers", drivers, (dict,), "a mapping")
    commitment = None
    plan = data.get("savings_plan")
    if plan is not None:
        _expect(f"{label}: savings_plan", plan, (dict,), "a mapping")
        _check_keys(f"{label}: savings_plan", plan, {"commitment_per_hour"})
        if plan.get("commitment_per_hour") is not None:
            commitment = check_number(f"{label}: savings_plan.commitment_per_hour", plan["commitment_per_hour"], 0, MAX_DOLLARS / 1000,
                                      "US dollars an hour (your Database Savings Plans' commitment)")
    report_detail = 25
    report_group_by = "auto"
    report_settings = data.get("report")
    if report_settings is not None:
        _expect(f"{label}: report", report_settings, (dict,), "a mapping")
        _check_keys(f"{label}: report", report_settings, {"detail", "group_by"})
        if report_settings.get("group_by") is not None:
            report_group_by = report_settings["group_by"]
            if not (report_group_by in GROUPINGS or (isinstance(report_group_by, str) and TAG_GROUPING.fullmatch(report_group_by))):
                raise InputError(f"{label}: report.group_by: choose one of {', '.join(GROUPINGS)}, or tag:NAME")
        if report_settings.get("detail") is not None:
            report_detail = _expect(f"{label}: report.detail", report_settings["detail"], (int,), "a whole number of environments")
            if not 0 <= report_detail <= 10_000:
                raise InputError(f"{label}: report.detail: 0..10,000 environments shown in full")
    cdk_keys = None
    iac = data.get("iac")
    if iac is not None:
        _expect(f"{label}: iac", iac, (dict,), "a mapping")
        _check_keys(f"{label}: iac", iac, {"cdk_keys"})
        keys = iac.get("cdk_keys") or {}
        _expect(f"{label}: iac.cdk_keys", keys, (dict,), "a mapping of max_storage_gb / max_ecpu_per_second to your dict's key names")
        _check_keys(f"{label}: iac.cdk_keys", keys, {"max_storage_gb", "max_ecpu_per_second"})
        for name, key in keys.items():
            _expect(f"{label}: iac.cdk_keys.{name}", key, (str,), "a key name")
        from costwise.iac import DEFAULT_CDK_KEYS

        cdk_keys = {**DEFAULT_CDK_KEYS, **keys}
    pricing = data.get("pricing")
    if pricing is not None:
        _expect(f"{label}: pricing", pricing, (str,), "a path")
        pricing = (path.parent / pricing) if path is not None else Path(pricing)
    return Config(path=path, region=region, environments=envs, sizing=dict(sizing), pricing=pricing, savings_plan_commitment=commitment,
                  cdk_keys=cdk_keys, report_detail=report_detail, report_group_by=report_group_by, accounts=_accounts(label, data.get("accounts"), region),
                  organization=_organization(label, data.get("organization"), region), drivers=dict(drivers))


def _regions(where: str, account: dict, default_region: str) -> tuple[str, ...]:
    regions = account.get("regions", [default_region])
    _expect(f"{where}.regions", regions, (list,), "a list of region names")
    if not regions:
        raise InputError(f"{where}.regions: empty (name at least one region)")
    for region in regions:
        if not isinstance(region, str) or not REGION.fullmatch(region):
            raise InputError(f"{where}.regions: {shorten(region)} is not a region name such as us-east-1")
    return tuple(dict.fromkeys(regions))


def _external_id(where: str, account: dict) -> str | None:
    external_id = account.get("external_id")
    if external_id is not None:
        _expect(f"{where}.external_id", external_id, (str,), "a string")
        if not 2 <= len(external_id) <= 1224:
            raise InputError(f"{where}.external_id: 2 to 1,224 characters")
    return external_id


def _organization(label: str, data: Any, default_region: str) -> OrganizationConfig | None:
    if data is None:
        return None
    where = f"{label}: organization"
    _expect(where, data, (dict,), "a mapping with role_name, regions, external_id")
    _check_keys(where, data, {"role_name", "regions", "external_id"})
    role_name = _matching(where, data, "role_name", ROLE_NAME, "an IAM role name (letters, digits and +=,.@_-, up to 64)",
                          "the read-only role costwise assumes in every member account")
    return OrganizationConfig(role_name, _regions(where, data, default_region), _external_id(where, data))


def _matching(where: str, data: dict, key: str, pattern: "re.Pattern", what: str, purpose: str) -> str:
    """data[key]: present, a string, and all of it matching `pattern`."""
    if key not in data:
        raise InputError(f"{where}.{key}: missing ({purpose})")
    value = _expect(f"{where}.{key}", data[key], (str,), what)
    if not pattern.fullmatch(value):
        raise InputError(f"{where}.{key}: not {what}, got {shorten(value)}")
    return value


def _accounts(label: str, data: Any, default_region: str) -> tuple[AccountConfig, ...]:
    if data is None:
        return ()
    _expect(f"{label}: accounts", data, (dict,), "a mapping of account name to role_arn, regions, external_id")
    accounts = []
    for name, account in data.items():
        where = f"{label}: accounts.{printable(str(name))[:60]}"
        _expect(where, account, (dict,), "a mapping")
        _check_keys(where, account, {"role_arn", "regions", "external_id"})
        role_arn = _matching(where, account, "role_arn", ROLE_ARN, "an IAM role ARN (arn:aws:iam::123456789012:role/NAME)",
                             "the read-only role costwise assumes in that account")
        accounts.append(AccountConfig(str(name), role_arn, _regions(where, account, default_region), _external_id(where, account)))
    return tuple(accounts)


def load_config(path: str | Path | None) -> Config:
    """Read costwise.yaml (or the given path). A missing default file is an error only when used."""
    from costwise.yamlfile import read_yaml

    resolved = Path(path) if path is not None else Path(DEFAULT_CONFIG)
    hint = "" if path is not None else " (pass --config PATH, --cache NAME, --metrics-file FILE or --demo)"
    data = read_yaml(resolved, "config file", hint)
    return parse_config(data, resolved)


def single_cache_config(cache: str, region: str, engine: str | None = None) -> Config:
    """`--cache NAME` without a config file: one environment named after the cache."""
    from costwise.pricing import normalize_engine

    env = EnvConfig(name=cache, cache=cache, engine=normalize_engine(engine) if engine else None)
    return Config(path=None, region=region, environments={cache: env})


def dataclass_from_mapping(cls, data: dict[str, Any], where: str):
    """Build a settings dataclass from a mapping, rejecting unknown keys, wrong types, NaN and
    infinity, and values outside the class's RANGES (an integer field takes whole numbers only)."""
    allowed = {f.name: f for f in fields(cls)}
    _expect(where, data, (dict,), "a mapping")
    _check_keys(where, data, set(allowed))
    ranges = getattr(cls, "RANGES", {})
    values = {}
    defaults = cls()
    for key, value in data.items():
        default = getattr(defaults, key)
        if isinstance(default, bool):
            _expect(f"{where}.{key}", value, (bool,), "true or false")
        elif isinstance(default, str):
            _expect(f"{where}.{key}", value, (str,), "text")
            problem = cls.text_problem(key, value)
            if problem:
                raise InputError(f"{where}.{key}: {problem}, got {shorten(value)}")
        elif isinstance(default, tuple):  # a list of names, each one of the class's CHOICES for it
            choices = cls.CHOICES[key]
            _expect(f"{where}.{key}", value, (list,), f"a list of {', '.join(choices)}")
            if not value or len(set(map(str, value))) != len(value) or not all(isinstance(v, str) and v in choices for v in value):
                raise InputError(f"{where}.{key}: must be a list of different names from {', '.join(choices)}, got {shorten(value)}")
            value = tuple(value)
        elif isinstance(default, (int, float)):
            _expect(f"{where}.{key}", value, (int, float), "a number")
            low, high = ranges.get(key, (0, math.inf))
            if not low <= value <= high:
                span = f"{low:g} or more" if high == math.inf else f"between {low:g} and {high:g}"
                raise InputError(f"{where}.{key}: must be {span}, got {shorten(value)}")
            if isinstance(default, int) and value != int(value):
                raise InputError(f"{where}.{key}: must be a whole number, got {shorten(value)}")
            value = type(default)(value)
        values[key] = value
    return cls(**values)
