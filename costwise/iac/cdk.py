"""The CDK pattern: a Python dict of environments holding the limits, read with `ast` (never run).

    env_config = {"dev": {"redis_max_storage_gb": 1, "redis_max_ecpu": 3000}, "prod": {...}}

Any dict literal whose values are dicts holding the configured keys with number literals counts;
the outer keys are the environment names. What is not a literal of its own is named, not patched: a
key given twice in one dict (Python keeps the last), a limit a later `**base` may replace or that
only `**base` gives, an environment whose settings are a variable or a call.
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
        envs = [(k, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)]
        holds_limits = any(isinstance(v, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in wanted for k in v.keys)
                           for _, v in envs)
        for env_key, env_value in envs:
            where = source.git_line(source.byte_of_python(env_value.lineno, env_value.col_offset))
            if not isinstance(env_value, ast.Dict):
                if holds_limits and isinstance(env_value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.BinOp)):
                    # a sibling of environments with limits, built elsewhere: its limits, if any, are not literals here
                    found.unmatched.append(f"{env_key.value}: its settings are not a dict literal (line {where}); not patched")
                continue
            given = Counter(k.value for k in env_value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
            spreads = [i for i, k in enumerate(env_value.keys) if k is None]  # `**base`: keys from elsewhere
            if spreads and (holds_limits or any(k in wanted for k in given)):
                found.unmatched += [f"{env_key.value}.{k}: may come through `**` (line {where}); not patched"
                                    for k in wanted if k not in given]
            for index, (key, value) in enumerate(zip(env_value.keys, env_value.values)):
                if not (isinstance(key, ast.Constant) and key.value in wanted):
                    continue
                line = source.git_line(source.byte_of_python(value.lineno, value.col_offset))
                if given[key.value] > 1:
                    found.unmatched.append(f"{env_key.value}.{key.value}: given twice in one dict (line {line}); not patched")
                    continue
                if any(i > index for i in spreads):
                    found.unmatched.append(f"{env_key.value}.{key.value}: a `**` after it may replace it (line {line}); not patched")
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
