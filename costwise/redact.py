"""Secrets out of URLs: the one helper for every URL costwise shows or stores.

A URL a user gives (`--endpoint-url`, AWS_ENDPOINT_URL, `--from-redis`) can carry a password, as
`scheme://user:PASSWORD@host` or as `?password=...`; libraries repeat the URL in their errors
("Could not connect to the endpoint URL: ..."). Every message and stored error that may hold one
goes through `redact_urls`, so the secret never reaches stderr, a JSON field or a history file.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

REDACTED = "***"
SECRET_PARAMS = ("password", "pass", "passwd", "pwd", "requirepass", "auth", "token", "secret", "access_token", "api_key",
                 "apikey", "x-amz-security-token", "x-amz-signature", "x-amz-credential")

# scheme://AUTHORITY, the authority ending where urlsplit ends it (/, ?, #), or at a space or quote
_AUTHORITY = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#\s\"'<>]*)")
_SECRET_PARAM = re.compile(r"(?i)(?P<key>(?:^|[?&;])(?:" + "|".join(re.escape(p) for p in SECRET_PARAMS) + r")=)[^&;#\s\"'<>]*")


def _hide_password(match: re.Match) -> str:
    authority = match["authority"]
    userinfo, at, host = authority.rpartition("@")  # as urlsplit: the host follows the last @
    if not at or ":" not in userinfo:
        return match[0]
    user = userinfo.split(":", 1)[0]
    return f"{match['scheme']}{user}:{REDACTED}@{host}"


def redact_urls(text: str) -> str:
    """`text` with the password of every URL in it, and every secret query parameter, shown as ***."""
    text = _AUTHORITY.sub(_hide_password, str(text))
    return _SECRET_PARAM.sub(lambda m: m["key"] + REDACTED, text)


def redact_url(url: str) -> str:
    """One URL without its secrets, for a label or message; an unparsable one is not shown at all
    (its password could be anywhere in it)."""
    try:
        urlsplit(url).port  # noqa: B018 (parses the authority; raises for a malformed one)
    except ValueError:
        return "(an unreadable URL)"
    return redact_urls(url)


def checked_url(url: str, option: str, schemes: tuple[str, ...]) -> SplitResult:
    """A URL a user gave, parsed, or one line (exit 2) saying why it cannot be used: a malformed
    authority (`[::1`, `[zz]`, a port that is no number), another scheme, no host. The URL is shown
    without its secrets, or not at all when it cannot be parsed."""
    from costwise.errors import InputError
    from costwise.fmt import printable

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not a number, or out of range)
        host = parts.hostname
        if host and parts.netloc.rpartition("@")[2].startswith("["):
            import ipaddress

            ipaddress.IPv6Address(host.split("%", 1)[0])  # what urlsplit checks only partly
    except ValueError as exc:
        reason = printable(redact_urls(str(exc)))[:120]
        raise InputError(f"{option}: not a URL costwise can read ({reason})") from None
    if parts.scheme.lower() not in schemes:
        shown = printable(redact_urls(url))[:120]
        raise InputError(f"{option}: {shown!r}: costwise takes {', '.join(s + '://' for s in schemes)} URLs here")
    return parts
