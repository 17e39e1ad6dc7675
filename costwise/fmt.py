"""Formatting of numbers shared by model reasons and renderers."""

from __future__ import annotations

from datetime import datetime, timezone


def money(value: float | None, *, unbounded: str = "unbounded") -> str:
    if value is None:
        return unbounded
    if abs(value) >= 1000:
        return f"${value:,.0f}"
    return f"${value:,.2f}"


def iso_utc(moment: datetime | None) -> str | None:
    """2026-11-20T00:00:00Z: how every file and JSON output writes a time."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_utc(text: str) -> datetime:
    """An ISO 8601 time (a trailing Z allowed) as an aware UTC datetime; naive times are UTC.

    Raises ValueError for text that is not such a time."""
    moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


# C0 and C1 control characters and DEL: what can clear a screen, retitle a window or hide text
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL[ord("\n")] = "\\n"
_CONTROL[ord("\r")] = "\\r"
_CONTROL[ord("\t")] = "\\t"


# Unicode's invisible characters: format characters (Cf: right-to-left overrides and isolates,
# U+202A..U+202E and U+2066..U+2069, marks U+200E/U+200F, zero-width U+200B..U+200D, U+2060,
# U+FEFF...), line and paragraph separators (Zl, Zp) and lone surrogates (Cs): what can show a line
# reversed, hide text, or break one line into two.
_INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp", "Cs")


def _escaped(char: str) -> str:
    if ord(char) < 0x100:
        return f"\\x{ord(char):02x}"
    return f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"


def printable(text: object) -> str:
    """Text from outside (names, server replies) with every control and invisible formatting
    character shown escaped (ESC as \\x1b, a newline as \\n, a right-to-left override as
    \\u202e): safe for a terminal, a log line or a table cell."""
    import unicodedata

    text = str(text).translate(_CONTROL)
    if text.isprintable():  # the common case: nothing invisible (isprintable is False for every category above)
        return text
    return "".join(_escaped(c) if unicodedata.category(c) in _INVISIBLE_CATEGORIES else c for c in text)


def shorten(value: object, limit: int = 60) -> str:
    """repr() of a value for a message: printable and at most `limit` characters."""
    text = printable(repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(value: float) -> str:
    """A number for a message, whatever its size: 1,500, 0.25, 1e+308, nan."""
    try:
        if abs(value) < 1e15:
            return f"{value:,.6g}" if not float(value).is_integer() else f"{value:,.0f}"
    except (TypeError, ValueError, OverflowError):
        pass
    try:
        return f"{value:.6g}"
    except OverflowError:  # an integer too big for a float (YAML reads 400 nines as one)
        return f"a {len(str(abs(value)))}-digit number"
