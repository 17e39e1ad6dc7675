"""The CDK pattern: a Python dict of environments holding the limits, read with `ast` (never run).

    env_config = {"dev": {"redis_max_storage_gb": 1, "redis_max_ecpu": 3000}, "prod": {...}}

Any dict literal whose values are dicts holding the configured keys with number literals counts;
the outer keys are the environment names. A key given twice in one dict (Python keeps the last) is
named, not patched.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from costwise.errors import InputError
from costwise.iac import IacFile, LimitSite
from costwise.iac.source import Source


def read(path: Path, source: Source, keys: dict[str, str]) -> IacFile:
    try:
        tree = ast.parse(source.text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not Python that costwise can read ({getattr(exc, 'msg', exc)})") from None
    wanted = {key: name for name, key in keys.items()}  # the file's key -> costwise's field
    found = IacFile(path, "cdk", source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for env_key, env_value in zip(node.keys, node.values):
            if not (isinstance(env_key, ast.Constant) and isinstance(env_key.value, str) and isinstance(env_value, ast.Dict)):
                continue
            given = Counter(k.value for k in env_value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
            for key, value in zip(env_value.keys, env_value.values):
                if not (isinstance(key, ast.Constant) and key.value in wanted):
                    continue
                line = source.git_line(source.byte_of_python(value.lineno, value.col_offset))
                if given[key.value] > 1:
                    found.unmatched.append(f"{env_key.value}.{key.value}: given twice in one dict (line {line}); not patched")
                    continue
                if not (isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool)):
                    found.unmatched.append(f"{env_key.value}.{key.value}: not a number literal (line {line})")
                    continue
                try:
                    number = float(value.value)
                except OverflowError:  # an integer literal of hundreds of digits
                    number = float("inf")
                start = source.byte_of_python(value.lineno, value.col_offset)
                end = source.byte_of_python(value.end_lineno, value.end_col_offset)
                found.sites.append(LimitSite(path, "cdk", env_key.value, "env", wanted[key.value], number, line, start, end))
    return found
