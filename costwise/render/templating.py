"""The jinja2 environments for the Markdown and HTML templates in templates/."""

from __future__ import annotations

from functools import lru_cache

from costwise.render import md_escape


@lru_cache(maxsize=2)
def environment(kind: str):
    import jinja2
    from markupsafe import Markup

    from costwise.resources import templates_dir

    loader = jinja2.FileSystemLoader(str(templates_dir()))
    from costwise.fmt import printable

    if kind == "html":
        # autoescape for HTML, and control characters shown escaped (an ESC byte in a name
        # would still reach a terminal that `cat`s the file)
        def html_finalize(value):
            return value if isinstance(value, (Markup, int, float)) or value is None else printable(value)

        return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, finalize=html_finalize,
                                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

    def finalize(value):
        # Every value printed into Markdown is escaped (pipes, HTML, emphasis) unless it is
        # Markup built by costwise itself (the mermaid block).
        if value is None:
            return ""
        if isinstance(value, Markup):
            return str(value)
        if isinstance(value, (int, float)):
            return value
        return md_escape(value)

    return jinja2.Environment(loader=loader, autoescape=False, finalize=finalize, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
