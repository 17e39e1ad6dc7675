"""A file as git sees it: its bytes, its lines split at "\\n" only, and the text a parser reads.

Every position costwise writes into a patch is a byte offset into these bytes, and every line
number is git's (one plus the count of "\\n" bytes before it). Parsers count otherwise: PyYAML and
libyaml also break lines at CR, U+0085, U+2028 and U+2029 (and libyaml's index skips a byte-order
mark), Python's tokenizer breaks at CR and CRLF and counts columns in UTF-8 bytes, and
`str.splitlines` also breaks at form feeds and more. So each reader hands over its parser's own
position, and this module alone turns it into bytes and git lines, for every reader and for the
patch and the suggestion blocks.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import os
import re

BOM = b"\xef\xbb\xbf"
_BLOCK = 4096
_PYTHON_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # what Python's tokenizer ends a line at


class Source:
    """One file's bytes and the text its parser reads (UTF-8, without a byte-order mark)."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.bom = len(BOM) if raw.startswith(BOM) else 0
        self.text = raw[self.bom:].decode("utf-8")  # UnicodeDecodeError: the caller names the file
        self._ascii = len(self.text) == len(raw) - self.bom
        self._block_bytes: list[int] | None = None  # bytes before each _BLOCK characters: any offset in O(_BLOCK)
        self._python_starts: list[int] | None = None
        self._newlines: list[int] | None = None

    def byte_of_char(self, index: int) -> int:
        """The byte offset of character `index` of `text` (what PyYAML, libyaml and lark count)."""
        if self._ascii:
            return self.bom + index
        if self._block_bytes is None:
            self._block_bytes = [0]
            for start in range(0, len(self.text), _BLOCK):
                self._block_bytes.append(self._block_bytes[-1] + len(self.text[start:start + _BLOCK].encode("utf-8")))
        block = index // _BLOCK
        return self.bom + self._block_bytes[block] + len(self.text[block * _BLOCK:index].encode("utf-8"))

    def byte_of_python(self, lineno: int, col_offset: int) -> int:
        """The byte offset of an `ast` position: Python's line (LF, CRLF or a lone CR ends one) and
        its column in UTF-8 bytes."""
        if self._python_starts is None:
            body = self.raw[self.bom:]
            self._python_starts = [0] + [m.end() for m in _PYTHON_LINE_BREAK.finditer(body)]
        return self.bom + self._python_starts[lineno - 1] + col_offset

    def git_line(self, byte: int) -> int:
        """The 1-based line git shows the byte at: one plus the "\\n" bytes before it."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer(b"\n", self.raw)]
        return bisect.bisect_left(self._newlines, byte) + 1


def git_lines(data: bytes) -> list[bytes]:
    """Lines as git splits them: at b"\\n" only, each keeping it (the last may have none)."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def literal_number(text: str) -> float | None:
    """The number a limit's characters spell (Python, JSON, YAML or HCL decimal literal), or None."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


# git's C-style quoting of a path (quote.c): these bytes get a letter, other controls, '"', '\\'
# and every byte from 0x80 (core.quotePath, on by default) get an octal escape
_C_ESCAPES = {0x07: b"\\a", 0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0B: b"\\v", 0x0C: b"\\f", 0x0D: b"\\r",
              0x22: b'\\"', 0x5C: b"\\\\"}


def git_path(prefix: str, path: str) -> bytes:
    """`a/path` as git writes it in a patch header: quoted C-style ("a/foo\\nbar.tf") when the
    name holds a control character, a quote, a backslash or a non-ASCII byte."""
    name = prefix.encode() + os.fsencode(path)  # fsencode: a name that is not UTF-8 keeps its bytes
    if not any(b < 0x20 or b == 0x7F or b >= 0x80 or b in (0x22, 0x5C) for b in name):
        return name
    out = bytearray(b'"')
    for b in name:
        if b in _C_ESCAPES:
            out += _C_ESCAPES[b]
        elif b < 0x20 or b >= 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return bytes(out + b'"')


def git_patch(before: bytes, after: bytes, path: str) -> str:
    """A unified diff of one file that `git apply` takes: git's header and path quoting, lines
    split where git splits them, a last line without a newline said so."""
    old, new = git_path("a/", path), git_path("b/", path)
    hunks = list(difflib.diff_bytes(difflib.unified_diff, git_lines(before), git_lines(after), b"", b"", n=3))[2:]
    if not hunks:
        return ""
    out = [b"diff --git " + old + b" " + new + b"\n", b"--- " + old + b"\n", b"+++ " + new + b"\n"]
    for line in hunks:
        out.append(line if line.endswith(b"\n") else line + b"\n\\ No newline at end of file\n")
    return b"".join(out).decode("utf-8")  # the file's lines are UTF-8 (read so), the header ASCII
