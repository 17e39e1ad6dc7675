"""Hostile text, round 3 (issue 23): invisible Unicode (right-to-left overrides, zero-width
characters, line separators) never reaches a terminal raw, and Markdown (the job summary, a PR
comment) never pings anyone, links anywhere or typesets math from a name.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pytest

from costwise.fmt import printable
from costwise.render import md_escape
from costwise.sources.history_file import save_history
from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame
from tests.helpers import END, GIB, START, costwise

# Each with what it does on a screen or in a log
INVISIBLE = {
    "\u202e": "right-to-left override: the rest of the line shows reversed",
    "\u202a": "left-to-right embedding", "\u202b": "right-to-left embedding", "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u2066": "left-to-right isolate", "\u2067": "right-to-left isolate", "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
    "\u200e": "left-to-right mark", "\u200f": "right-to-left mark", "\u061c": "Arabic letter mark",
    "\u200b": "zero-width space", "\u200c": "zero-width non-joiner", "\u200d": "zero-width joiner",
    "\u2060": "word joiner", "\ufeff": "zero-width no-break space (BOM)", "\u00ad": "soft hyphen",
    "\u2028": "line separator", "\u2029": "paragraph separator", "\U000e0041": "tag latin capital A",
}


@pytest.mark.parametrize("char", list(INVISIBLE))
def test_each_invisible_character_is_shown_escaped(char):
    # shown as its code: \u202e, \xad (below U+0100 like the C1 controls), \U000e0041
    code = ord(char)
    expected = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    assert printable(f"a{char}b") == f"a{expected}b"


def test_every_format_control_and_separator_character_is_escaped():
    # the class, not a list: every code point Unicode puts in Cc, Cf, Zl or Zp
    hidden = [chr(c) for c in range(sys.maxunicode + 1)
              if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")]
    assert len(hidden) > 200
    shown = printable("".join(hidden))
    assert shown.isascii() and shown.isprintable()
    # while visible text is left as it is
    for text in ("café", "日本語のキャッシュ", "кэш", "🎉 prod", "a b\u00a0c"):
        assert printable(text) == text


# ---- through the CLI -------------------------------------------------------------------------

NAMES = {
    "rtl\u202eliated": "c-rtl",  # shows as "rtldetail" reversed: an attacker's "invoice.exe" trick
    "zero\u200bwidth\u2060join\ufeff": "c-zw",
    "iso\u2066late\u2069mark\u200f": "c-iso",
    "@octocat and @org/team": "c-mention",
    "see #12 and https://evil.example/x or www.evil.example": "c-link",
    "$x^2$ ~~gone~~": "c-math",
    "<script>alert(1)</script>": "c-html",
}


def _history(path: Path) -> None:
    window = Window(START, END)
    envs = []
    for env, cache in NAMES.items():
        frame = empty_frame(window)
        frame[["storage_avg_bytes", "storage_max_bytes"]] = GIB
        frame["ecpu_sum"] = 3.6e6
        frame["ecpu_max_minute"] = 6e4
        frame["throttled_sum"] = 0.0
        envs.append(EnvHistory(env=env, cache=cache, engine="valkey", region="us-east-1", frame=frame,
                               limits=CurrentLimits(source="file")))
    envs.append(EnvHistory(env="failed\u202e", cache="c-failed", engine="valkey", region="us-east-1",
                           error="denied by \u202epolicy\u200b @octocat"))
    save_history(History(window, envs, "cloudwatch"), path)


def _assert_nothing_invisible(text: str) -> None:
    raw = [c for c in text if unicodedata.category(c) in ("Cf", "Zl", "Zp") and c != "\ufe0f"]  # U+FE0F: costwise's own ⚠️
    assert not raw, [f"U+{ord(c):04X}" for c in raw]


def test_invisible_characters_never_reach_the_terminal_or_a_report(tmp_path):
    history = tmp_path / "history.csv"
    _history(history)
    for args in (("estimate",), ("report", "--format", "markdown"), ("report", "--format", "html"), ("report", "--format", "json")):
        result = costwise(*args, "--metrics-file", str(history))
        assert result.code == 1, result.err  # the failed environment: 1, the others reported
        _assert_nothing_invisible(result.out)
        _assert_nothing_invisible(result.err)
    # the failed environment's line on stderr, and its name in the table, are shown escaped
    assert "costwise: failed\\u202e: denied by \\u202epolicy\\u200b @octocat" in result.err
    table = costwise("estimate", "--metrics-file", str(history))
    assert "rtl\\u202eliated" in table.out and "zero\\u200bwidth\\u2060join\\ufeff" in table.out


UNESCAPED_DOLLAR = re.compile(r"(?<!\\)(\\\\)*\$")  # a $ after no backslash, or after an even run of them


def _markdown_text_nodes(markdown: str) -> list[str]:
    """The text a CommonMark renderer shows, node by node (an HTML comment splits two nodes)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    nodes = []
    for token in parser.parse(markdown):
        nodes += [child.content for child in token.children or [] if child.type == "text"]
    return nodes


def test_markdown_neutralises_mentions_links_and_math_in_names(tmp_path):
    history = tmp_path / "history.csv"
    _history(history)
    markdown = costwise("report", "--format", "markdown", "--metrics-file", str(history)).out
    # GitHub looks for @user, #12 and bare URLs in each text node of the rendered HTML: an empty
    # comment after the @, the # and the scheme's colon leaves none of them whole in one node
    assert "@<!-- -->octocat and @<!-- -->org/team" in markdown
    assert "see #<!-- -->12 and https:<!-- -->//evil.example/x or www<!-- -->.evil.example" in markdown
    nodes = _markdown_text_nodes(markdown)
    for needle in ("@octocat", "@org", "#12", "https://", "www.evil"):
        assert not any(needle in node for node in nodes), needle
    # and the name still reads as typed once rendered (the comments render as nothing)
    assert any("@" in node for node in nodes) and any("octocat and @" in node for node in nodes)
    # $...$ is math on GitHub: every $ in the report is escaped (money included: \$12 shows as $12),
    # and one that could close math (not followed by a digit) is alone in a <span>, so no text node
    # GitHub looks at holds a pair
    assert "<span>\\$</span>x^2<span>\\$</span> \\~\\~gone\\~\\~" in markdown
    assert not UNESCAPED_DOLLAR.search(markdown)
    assert not any(re.search(r"\$(?!\d)", node) for node in nodes if node != "$")
    # HTML in a name stays text in Markdown and in the HTML report
    assert "<script>" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    html = costwise("report", "--format", "html", "--metrics-file", str(history)).out
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("name", ["@octocat", "team #7", "http://a.example", "HTTPS://B.example/x_y", "www.c.example",
                                  "$a$", "$$b$$", "- item", "1. first", "+ plus", "a|b*c_d`e[f](g) ~~s~~", "\\$x"])
def test_md_escape_renders_every_name_as_typed_and_inert(name):
    # rendered by a CommonMark parser, the text is exactly the name; no node holds a mention or URL
    nodes = _markdown_text_nodes(md_escape(name))
    assert "".join(nodes) == name
    for needle in ("@octocat", "#7", "://", "www."):
        assert not any(needle in node for node in nodes) or needle not in name
    # GitHub reads $...$ as math (which CommonMark does not): each $ is escaped
    assert not UNESCAPED_DOLLAR.search(md_escape(name))


def test_a_code_line_with_invisible_characters_gets_no_suggestion_block():
    # a suggestion block replaces the line with the block's text: one that would show a character
    # escaped (\u200d) would write the escape into the code; tabs are kept as they are
    from costwise.render.view import _unsuggestable

    assert _unsuggestable("max_storage = 5  # owner: \u200dteam") == "an invisible or control character (U+200D)"
    assert _unsuggestable("max_storage = 5\u200f") == "an invisible or control character (U+200F)"
    assert _unsuggestable("\tmax_storage = 5") is None
