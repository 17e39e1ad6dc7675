"""Terraform: `aws_elasticache_serverless_cache` resources, parsed with python-hcl2's parse tree
(which keeps every token's position), never evaluated."""

from __future__ import annotations

import re
from pathlib import Path

from costwise.errors import InputError
from costwise.iac import IacFile, LimitSite
from costwise.iac.source import Source

# python-hcl2's parser takes about 90 µs a token: bounded before parsing, so no file costs more than
# about ten seconds (a 15,000-line main.tf has some 100,000; a 300,000-term sum would take a minute)
MAX_TOKENS = 120_000
_TOKEN = re.compile(r"\w+|[^\w\s]")
LIMIT_BLOCKS = {"data_storage": "max_storage_gb", "ecpu_per_second": "max_ecpu_per_second"}


def _children(tree, kind: str):
    return [c for c in getattr(tree, "children", []) if getattr(c, "data", None) == kind]


def _body(block):
    bodies = _children(block, "body")
    return bodies[0] if bodies else None


def _identifier(node) -> str:
    ident = _children(node, "identifier")
    return str(ident[0].children[0]) if ident and ident[0].children else ""


def _labels(block) -> list[str]:
    """A block's string labels: resource "TYPE" "NAME" -> [TYPE, NAME]."""
    out = []
    for child in getattr(block, "children", []):
        if getattr(child, "data", None) == "string":
            out.append("".join(str(t) for part in _children(child, "string_part") for t in part.children))
    return out


def _attribute(body, name: str):
    for attribute in _children(body, "attribute"):
        if _identifier(attribute) == name:
            return attribute
    return None


def _literal(attribute):
    """(value, first token, last token) of an attribute whose expression is a plain number or string."""
    expressions = _children(attribute, "expr_term")
    if not expressions:
        return None
    tokens, pending = [], [expressions[0]]
    while pending:  # a loop, not recursion: an expression may nest thousands of levels deep
        node = pending.pop()
        if hasattr(node, "children"):
            pending.extend(reversed(node.children))
        else:
            tokens.append(node)
    kinds = {t.type for t in tokens}
    if kinds <= {"INT_LITERAL", "DECIMAL", "FLOAT_LITERAL", "EXP_MARK"} and tokens:
        try:
            return float("".join(str(t) for t in tokens)), tokens[0], tokens[-1]
        except ValueError:
            return None
    if "STRING_CHARS" in kinds and kinds <= {"DBLQUOTE", "STRING_CHARS"}:
        return "".join(str(t) for t in tokens if t.type == "STRING_CHARS"), tokens[0], tokens[-1]
    return None


def read(path: Path, source: Source) -> IacFile:
    import hcl2

    text = source.text
    tokens = sum(1 for _ in _TOKEN.finditer(text))
    if tokens > MAX_TOKENS:
        raise InputError(f"{path}: {tokens:,} tokens, more than the {MAX_TOKENS:,} costwise parses in one Terraform file")
    try:
        tree = hcl2.parses_to_tree(text) if hasattr(hcl2, "parses_to_tree") else hcl2.parse(text)
    except (RecursionError, MemoryError):
        raise  # said at the reader boundary (costwise.iac), like every reader's
    except Exception as exc:  # lark's errors: one line
        raise InputError(f"{path}: not Terraform (HCL2) that costwise can read ({str(exc).splitlines()[0][:120]})") from None
    found = IacFile(path, "terraform", source)
    top = _body(tree) or tree
    for block in _children(top, "block"):
        labels = _labels(block)
        if _identifier(block) != "resource" or len(labels) != 2 or labels[0] != "aws_elasticache_serverless_cache":
            continue
        body = _body(block)
        name_attribute = _attribute(body, "name") if body is not None else None
        name = _literal(name_attribute) if name_attribute is not None else None
        if name is None or not isinstance(name[0], str):
            found.unmatched.append(f"aws_elasticache_serverless_cache.{labels[1]}: no literal `name` to match a cache by")
            continue
        resource = f"aws_elasticache_serverless_cache.{labels[1]}"
        for usage in _children(body, "block"):
            if _identifier(usage) == "dynamic" and _labels(usage)[:1] == ["cache_usage_limits"]:
                found.unmatched.append(f"{resource}: cache_usage_limits is a dynamic block; not patched")
            if _identifier(usage) != "cache_usage_limits":
                continue
            for limit in _children(_body(usage), "block"):
                if _identifier(limit) == "dynamic" and _labels(limit)[:1] and _labels(limit)[0] in LIMIT_BLOCKS:
                    found.unmatched.append(f"{resource}: {_labels(limit)[0]} is a dynamic block; not patched")
                field = LIMIT_BLOCKS.get(_identifier(limit))
                maximum = _attribute(_body(limit), "maximum") if field else None
                value = _literal(maximum) if maximum is not None else None
                if value is None or not isinstance(value[0], float):
                    if field:
                        found.unmatched.append(f"aws_elasticache_serverless_cache.{labels[1]}: {_identifier(limit)}.maximum is not a number literal")
                    continue
                number, first, last = value
                start, end = source.byte_of_char(first.start_pos), source.byte_of_char(last.end_pos)  # lark counts characters
                found.sites.append(LimitSite(path, "terraform", name[0], "cache", field, number, source.git_line(start),
                                             start, end, resource=f"aws_elasticache_serverless_cache.{labels[1]}"))
    return found
