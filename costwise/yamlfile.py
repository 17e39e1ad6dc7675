"""Read a YAML file into plain data, strictly and within bounds, with one-line errors that name the file.

Config and pricing files may come from a pull request, so the reader refuses what a hand-written
file never needs and an attack does: more than MAX_YAML_BYTES (also what stops `/dev/zero`),
anything that is not UTF-8 text, anchors and aliases (the "billion laughs"), and duplicate keys
(YAML would silently keep the last one: an environment's budget could vanish).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from costwise.errors import InputError

MAX_YAML_BYTES = 1 << 20  # 1 MiB: the bundled pricing.yaml is 32 KB


def _kind(mode: int) -> str:
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a folder" if stat.S_ISDIR(mode) else "not a file")


def user_path(path: Path, what: str, missing_hint: str = "", folder_ok: bool = False) -> os.stat_result:
    """A path a user gave (config, pricing, infrastructure code, history): a regular file, or a
    folder where `folder_ok`, checked with stat before anything opens it (opening a FIFO waits for
    a writer forever; a device can be endless or ask the terminal). It is noted as one of the
    command's inputs, which no output may replace (costwise.atomic)."""
    from costwise.atomic import note_input

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found{missing_hint}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    if stat.S_ISDIR(info.st_mode) and folder_ok:
        return info
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: {what}: is {_kind(info.st_mode)}, not a regular file" + (" or folder" if folder_ok else ""))
    note_input(path, info)
    return info


def read_bounded(path: Path, what: str, limit: int, missing_hint: str = "") -> bytes:
    """At most `limit` bytes of a regular file (`user_path`); more is an error, read no further."""
    user_path(path, what, missing_hint)
    try:
        # non-blocking: should the path have become a FIFO since the check, opening it must not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        with open(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(f"{path}: {what}: is {_kind(os.fstat(fd).st_mode)}, not a regular file")
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found{missing_hint}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror or type(exc).__name__})") from None
    if len(data) > limit:
        raise InputError(f"{path}: larger than {limit // 1024:,} KiB; not a {what} costwise reads")
    return data


def _loader():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it: 10x faster

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        """A safe loader that refuses aliases and duplicate keys."""

        def construct_document(self, node):
            self._seen_nodes = set()
            return super().construct_document(node)

        def construct_object(self, node, deep=False):
            if id(node) in self._seen_nodes:
                line = node.start_mark.line + 1 if node.start_mark else "?"
                raise yaml.constructor.ConstructorError(None, None, f"anchors and aliases are not allowed (line {line})", node.start_mark)
            self._seen_nodes.add(id(node))
            return super().construct_object(node, deep)

        def construct_yaml_int(self, node):
            # Python refuses to convert an integer of more than 4,300 digits (a ValueError, not a
            # YAML error): the file's line is named instead; a shorter huge one is left to the
            # field's range check, which names the field.
            try:
                return super().construct_yaml_int(node)
            except ValueError:
                raise yaml.constructor.ConstructorError(None, None, f"a number too large at line {node.start_mark.line + 1}",
                                                        node.start_mark) from None

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
                if key in seen:
                    line = key_node.start_mark.line + 1
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {str(key)[:60]!r} at line {line}", key_node.start_mark)
                seen.add(key)
            self._seen_nodes.difference_update(id(k) for k, _ in node.value)
            return super().construct_mapping(node, deep)

    StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
    return StrictLoader


def read_yaml(path: Path, what: str, missing_hint: str = "") -> Any:
    import yaml

    raw = read_bounded(path, what, MAX_YAML_BYTES, missing_hint)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); a {what} is a UTF-8 YAML file") from None
    if "\x00" in text:
        raise InputError(f"{path}: contains NUL bytes; not a {what}")
    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 (a safe loader)
    except yaml.constructor.ConstructorError as exc:
        raise InputError(f"{path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from None
