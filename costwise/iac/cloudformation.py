"""CloudFormation: `AWS::ElastiCache::ServerlessCache` resources in JSON or YAML.

The document is composed, not constructed: `!Ref`, `!Sub` and other tags are kept as they are
(never resolved), and every scalar keeps its position, so a limit can be patched in place. A
`ServerlessCacheName` that is not a literal (`!Sub "${Env}-cache"`) cannot be matched and is said so.
"""

from __future__ import annotations

from pathlib import Path

from costwise.errors import InputError
from costwise.iac import IacFile, LimitSite

LIMITS = {("DataStorage", "Maximum"): "max_storage_gb", ("ECPUPerSecond", "Maximum"): "max_ecpu_per_second"}


def _get(node, key: str):
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def read(path: Path, text: str) -> IacFile:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{path}: not CloudFormation that costwise can read (line {mark.line + 1 if mark else '?'})") from None
    found = IacFile(path, "cloudformation", text)
    resources = _get(document, "Resources")
    if not isinstance(resources, yaml.MappingNode):
        return found
    for key, resource in resources.value:
        kind = _get(resource, "Type")
        if not (isinstance(kind, yaml.ScalarNode) and kind.value == "AWS::ElastiCache::ServerlessCache"):
            continue
        logical = str(key.value)
        properties = _get(resource, "Properties")
        name = _get(properties, "ServerlessCacheName")
        if not (isinstance(name, yaml.ScalarNode) and name.tag in ("tag:yaml.org,2002:str",)):
            found.unmatched.append(f"{logical}: ServerlessCacheName is not a literal name (a !Ref or !Sub is not resolved)")
            continue
        limits = _get(properties, "CacheUsageLimits")
        for (group, leaf), field in LIMITS.items():
            value = _get(_get(limits, group), leaf)
            if value is None:
                continue
            try:
                number = float(value.value) if isinstance(value, yaml.ScalarNode) and value.tag in (
                    "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:str") else None
            except ValueError:
                number = None
            if number is None:
                found.unmatched.append(f"{logical}: CacheUsageLimits.{group}.{leaf} is not a number literal")
                continue
            start, end = value.start_mark.index, value.end_mark.index
            if text[start:start + 1] in "\"'":  # a quoted number: keep the quotes
                start, end = start + 1, end - 1
            found.sites.append(LimitSite(path, "cloudformation", name.value, "cache", field, number,
                                         value.start_mark.line + 1, start, end, resource=logical))
    return found
