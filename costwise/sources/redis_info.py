"""Sample a running Redis or Valkey server with INFO only (read-only), for `costwise migrate`.

Besides the client's connection handshake (AUTH when the URL has a password), the only command
sent is INFO: three times, at the start, at the end, and once more right after to measure how many
bytes costwise's own INFO replies add to the server's network counters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from costwise.errors import CostwiseError, InputError
from costwise.fmt import printable, shorten
from costwise.usage import ServerSample


@dataclass
class RedisSource:
    """A running Redis or Valkey, sampled with INFO for `seconds`."""

    url: str
    seconds: float
    tls: bool = False
    timeout: float = 10.0

    @property
    def label(self) -> str:
        return redact(self.url)

    def read(self) -> ServerSample:
        return sample_info(self.url, self.seconds, tls=self.tls, timeout=self.timeout)


SECRET_PARAMS = {"password", "pass", "passwd", "requirepass", "auth", "token"}


def redact(url: str) -> str:
    """The URL without its password (user:PASSWORD@host, or ?password=...), for messages and reports."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unparsable URL: show none of it
        return "(an unreadable URL)"
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{port}" if port else "")
        parts = parts._replace(netloc=netloc)
    if parts.query:
        pairs = [p.split("=", 1) for p in parts.query.split("&")]
        query = "&".join(f"{k}=***" if len(kv) == 2 and k.lower() in SECRET_PARAMS else "=".join(kv)
                         for kv in pairs for k in [kv[0]])
        parts = parts._replace(query=query)
    return urlunsplit(parts)


def parse_duration(text: str) -> float:
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text and text[-1] in units:
            value = float(text[:-1]) * units[text[-1]]
        else:
            value = float(text)
    except ValueError:
        raise InputError(f"--sample: {shorten(text)} is not a duration such as 60s, 5m or 1h") from None
    if not 1 <= value <= 24 * 3600:  # NaN fails this too
        raise InputError("--sample: between 1 second and 24 hours")
    return value


def sample_info(url: str, seconds: float, tls: bool = False, timeout: float = 10.0) -> ServerSample:
    try:
        import redis
    except ImportError:
        raise CostwiseError("--from-redis needs the redis client: pip install 'costwise[redis]'", 2) from None
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "valkey", "valkeys", "unix"):
        raise InputError(f"--from-redis: {shorten(redact(url))} is not a redis://, rediss:// or unix:// URL")
    if scheme.startswith("valkey"):
        url = "redis" + url[len("valkey"):]
    if tls and url.startswith("redis://"):
        url = "rediss://" + url[len("redis://"):]
    shown = redact(url)
    client = None
    try:
        # RESP2: servers before Redis 6 (the ones being migrated) have no HELLO, and some rename it away
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, lib_name=None,
                                      lib_version=None, protocol=2)
        first = client.info("all")
        start = time.monotonic()
        time.sleep(seconds)
        second = client.info("all")
        elapsed = time.monotonic() - start
        third = client.info("all")
    except redis.exceptions.AuthenticationError:
        raise CostwiseError(f"{shown}: authentication failed (wrong password or user)") from None
    except redis.exceptions.ResponseError as exc:
        message = _clean(str(exc), url)
        if "NOAUTH" in message or "WRONGPASS" in message or "invalid username-password" in message.lower():
            raise CostwiseError(f"{shown}: authentication failed ({message.split(',')[0]})") from None
        raise CostwiseError(f"{shown}: the server refused INFO ({message})") from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        reason = _clean(str(exc).split(". ")[0] or type(exc).__name__, url)
        raise CostwiseError(f"cannot connect to {shown}: {reason}") from None
    except redis.exceptions.RedisError as exc:  # a reply redis-py could not parse: not a Redis server
        raise InputError(f"--from-redis: {shown} is not a Redis or Valkey server (its reply could not be read: {_clean(type(exc).__name__, url)})") from None
    except ValueError as exc:  # from_url: a URL it cannot use
        raise InputError(f"--from-redis: {shown}: {_clean(str(exc), url)}") from None
    finally:
        if client is not None:
            try:
                client.close()
            except Exception:
                pass

    for reply in (first, second, third):
        if not isinstance(reply, dict) or not any(str(k).startswith("used_memory") for k in reply):
            raise InputError(f"--from-redis: {shown} is not a Redis or Valkey server (its INFO reply is not one)")

    def moved(info: dict) -> float:
        return float(info.get("total_net_input_bytes", 0)) + float(info.get("total_net_output_bytes", 0))

    return ServerSample(first, second, elapsed, max(moved(third) - moved(second), 0.0))


def _clean(message: str, url: str) -> str:
    """A server's or client's message, printable, short, and without the URL's secrets."""
    parts = urlsplit(url)
    secrets = [parts.password] if parts.password else []
    secrets += [kv.split("=", 1)[1] for kv in parts.query.split("&") if "=" in kv and kv.split("=", 1)[0].lower() in SECRET_PARAMS]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***")
    return printable(message)[:200]
