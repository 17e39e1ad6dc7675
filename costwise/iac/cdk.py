"""The CDK pattern: a Python dict of environments holding the limits, read with `ast` (never run).

    env_config = {"dev": {"redis_max_storage_gb": 1, "redis_max_ecpu": 3000}, "prod": {...}}

Any dict literal whose values are dicts holding the configured keys with number literals counts;
the outer keys are the environment names.
"""

from __future__ import annotations

import ast
from pathlib import Path

from costwise.errors import InputError
from costwise.iac import IacFile, LimitSite


def _offsets(text: str) -> list[int]:
    """Character offset of each line's start (ast gives line and column)."""
    starts, total = [0], 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def read(path: Path, text: str, keys: dict[str, str]) -> IacFile:
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not Python that costwise can read ({getattr(exc, 'msg', exc)})") from None
    wanted = {key: name for name, key in keys.items()}  # the file's key -> costwise's field
    starts = _offsets(text)
    found = IacFile(path, "cdk", text)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        for env_key, env_value in zip(node.keys, node.values):
            if not (isinstance(env_key, ast.Constant) and isinstance(env_key.value, str) and isinstance(env_value, ast.Dict)):
                continue
            for key, value in zip(env_value.keys, env_value.values):
                if not (isinstance(key, ast.Constant) and key.value in wanted):
                    continue
                if not (isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool)):
                    found.unmatched.append(f"{env_key.value}.{key.value}: not a number literal (line {value.lineno})")
                    continue
                start = starts[value.lineno - 1] + _char_col(text, starts[value.lineno - 1], value.col_offset)
                end = starts[value.end_lineno - 1] + _char_col(text, starts[value.end_lineno - 1], value.end_col_offset)
                found.sites.append(LimitSite(path, "cdk", env_key.value, "env", wanted[key.value], float(value.value),
                                             value.lineno, start, end))
    return found


def _char_col(text: str, line_start: int, byte_col: int) -> int:
    """ast columns count UTF-8 bytes: turn one into characters of that line."""
    line = text[line_start:text.find("\n", line_start) if "\n" in text[line_start:] else len(text)]
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", "ignore"))
