"""CloudFormation: `AWS::ElastiCache::ServerlessCache` resources in JSON or YAML.

The document is composed, not constructed: `!Ref`, `!Sub` and other tags are kept as they are
(never resolved), and every scalar keeps its position, so a limit can be patched in place. A
`ServerlessCacheName` that is not a literal (`!Sub "${Env}-cache"`) cannot be matched and is said
so; so is a limit that is not a literal of its own: shared through a YAML anchor and alias
(patching it would change every place that uses it), brought in by a merge key (`<<`), inside a
function (`Fn::If`), given twice, or not a plain decimal number.
"""

from __future__ import annotations

import re
from pathlib import Path

from costwise.errors import InputError
from costwise.iac import IacFile, LimitSite
from costwise.iac.source import Source

LIMITS = {("DataStorage", "Maximum"): "max_storage_gb", ("ECPUPerSecond", "Maximum"): "max_ecpu_per_second"}
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]+)?")  # what JSON and YAML read alike
_NOT_FINITE = {"nan": float("nan"), "inf": float("inf"), "infinity": float("inf")}  # YAML .nan/.inf, JSON NaN/Infinity
_MERGE = "tag:yaml.org,2002:merge"
_SCALARS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:str")


def _get(node, key: str):
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _shared(document) -> set[int]:
    """The nodes reached from more than one place: what a YAML alias points at (composing keeps one node)."""
    import yaml

    seen, shared, pending = {id(document)}, set(), [document]
    while pending:  # a loop, not recursion: any depth
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            continue
        for child in children:
            if id(child) in seen:
                shared.add(id(child))
            else:
                seen.add(id(child))
                pending.append(child)
    return shared


def _follow(node, keys: tuple[str, ...], shared: set[int]):
    """(the node at `keys` below `node`, None) ; (None, None) when absent; (None, why) when what is
    there cannot be patched as a literal of its own."""
    import yaml

    walked = []
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None, f"{'.'.join(walked) or 'it'} is not a literal mapping (a !If, !Ref or other function is not resolved)"
        present = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        function = next((k for k in present if k == "Ref" or k.startswith("Fn::")), None)
        if function is not None:  # JSON's spelling of !If, !Ref...
            return None, f"{'.'.join(walked) or 'it'} is {function}, a function costwise does not resolve"
        matches = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
        walked.append(key)
        if len(matches) > 1:
            return None, f"{'.'.join(walked)} is given twice"
        if not matches:
            if any(k.tag == _MERGE for k, _ in node.value):
                return None, f"{'.'.join(walked)} may come through a YAML merge key (<<)"
            return None, None
        node = matches[0]
        if id(node) in shared:
            return None, f"{'.'.join(walked)} is shared through a YAML anchor and alias with another place"
    return node, None


def _number(text: str) -> float | None:
    special = text.strip().lower().lstrip("+-").lstrip(".")
    if special in _NOT_FINITE:
        return _NOT_FINITE[special]
    return float(text) if _DECIMAL.fullmatch(text.strip()) else None


def read(path: Path, source: Source) -> IacFile:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.compose(source.text, Loader=loader)  # without the BOM: libyaml and PyYAML index alike
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = source.git_line(source.byte_of_char(mark.index)) if mark is not None else "?"
        raise InputError(f"{path}: not CloudFormation that costwise can read (line {line})") from None
    found = IacFile(path, "cloudformation", source)
    resources = _get(document, "Resources")
    if not isinstance(resources, yaml.MappingNode):
        return found
    shared = _shared(document)
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
        if id(resource) in shared:
            found.unmatched.append(f"{logical}: the resource is shared through a YAML anchor and alias; its limits are not patched")
            continue
        said = set()
        for (group, leaf), field in LIMITS.items():
            value, why = _follow(resource, ("Properties", "CacheUsageLimits", group, leaf), shared)
            if why is not None:
                if why not in said:  # a shared CacheUsageLimits is said once, not once per limit
                    found.unmatched.append(f"{logical}: {why}; not patched")
                    said.add(why)
                continue
            if value is None:
                continue
            literal = isinstance(value, yaml.ScalarNode) and value.tag in _SCALARS and value.style in (None, "", '"', "'")
            number = _number(value.value) if literal else None  # plain (libyaml says "", PyYAML None) or quoted
            if number is None:
                found.unmatched.append(f"{logical}: CacheUsageLimits.{group}.{leaf} is not a plain number literal")
                continue
            # from the end: a node's start is that of its anchor or tag (`&a 5`, `!!int "5"`); a quoted
            # number keeps its quotes; what is not spelled as the value (escapes, folded lines) is not patched
            quote = 1 if value.style in ('"', "'") else 0
            end = value.end_mark.index - quote
            start = end - len(value.value)
            if source.text[start:end] != value.value or (quote and source.text[start - 1] != value.style):
                found.unmatched.append(f"{logical}: CacheUsageLimits.{group}.{leaf} is not written as a plain number "
                                       "(escapes or several lines)")
                continue
            start, end = source.byte_of_char(start), source.byte_of_char(end)
            found.sites.append(LimitSite(path, "cloudformation", name.value, "cache", field, number,
                                         source.git_line(start), start, end, resource=logical))
    return found
