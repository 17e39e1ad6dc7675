"""Sample a running Redis or Valkey server with INFO only (read-only), for `costwise migrate`.

Besides the client's connection handshake (AUTH when the URL has a password), the only command
sent is INFO: three times, at the start, at the end, and once more right after to measure how many
bytes costwise's own INFO replies add to the server's network counters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from costwise.errors import CostwiseError, InputError
from costwise.fmt import printable, shorten
from costwise.redact import SECRET_PARAMS, checked_url, redact_url as redact, redact_urls
from costwise.usage import ServerSample


@dataclass
class RedisSource:
    """A running Redis or Valkey, sampled with INFO for `seconds`."""

    url: str
    seconds: float
    tls: bool = False
    timeout: float = 10.0

    def __post_init__(self) -> None:
        check_url(self.url)  # before anything is announced or sent

    @property
    def label(self) -> str:
        return redact(self.url)

    def read(self) -> ServerSample:
        return sample_info(self.url, self.seconds, tls=self.tls, timeout=self.timeout)


SCHEMES = ("redis", "rediss", "valkey", "valkeys", "unix")


def check_url(url: str) -> None:
    """A URL redis-py can use (no host is localhost), or one line saying why not (costwise.redact.checked_url)."""
    checked_url(url, "--from-redis", SCHEMES)


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
    check_url(url)
    if urlsplit(url).scheme.startswith("valkey"):
        url = "redis" + url[len("valkey"):]
    if tls and url.startswith("redis://"):
        url = "rediss://" + url[len("redis://"):]
    shown = redact(url)
    client = None
    guard = _ReplyGuard(timeout)
    try:
        # RESP2: servers before Redis 6 (the ones being migrated) have no HELLO, and some rename it away
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, lib_name=None,
                                      lib_version=None, protocol=2, connection_class=_guarded_connection(url, guard))
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
        if guard.stopped == "deadline":
            raise CostwiseError(f"{shown}: no whole answer to INFO within {timeout:g} s (--timeout); gave up waiting") from None
        if guard.stopped == "size":
            raise InputError(f"--from-redis: {shown} is not a Redis or Valkey server (its reply is longer than "
                             f"{MAX_REPLY_BYTES >> 20} MiB; INFO is a few KB)") from None
        reason = _clean(str(exc).split(". ")[0] or type(exc).__name__, url)
        raise CostwiseError(f"cannot connect to {shown}: {reason}") from None
    except redis.exceptions.RedisError as exc:  # a reply redis-py could not parse: not a Redis server
        raise InputError(f"--from-redis: {shown} is not a Redis or Valkey server (its reply could not be read: {_clean(type(exc).__name__, url)})") from None
    except RecursionError:  # redis-py's parser recurses per nested array: no INFO reply has one
        raise InputError(f"--from-redis: {shown} is not a Redis or Valkey server (its reply is nested too deeply to be INFO's)") from None
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


# INFO ALL of a busy server is tens of KB (a line per client library, command and database);
# redis-py holds a reply whole, so a longer one is cut off as it arrives
MAX_REPLY_BYTES = 16 << 20


class _ReplyGuard:
    """costwise.sources.guarded's guard for one server: each command's whole answer within
    `timeout` of sending it (bytes that trickle do not reset it), and at most MAX_REPLY_BYTES."""

    limit = MAX_REPLY_BYTES

    def __init__(self, timeout: float):
        self.timeout = timeout
        self.stopped: str | None = None

    def deadline(self, sent_at: float) -> float:
        return sent_at + self.timeout

    def stop(self, why: str) -> None:
        self.stopped = why


def _guarded_connection(url: str, guard: _ReplyGuard):
    """redis-py's connection class for the URL's scheme, its socket guarded."""
    import redis

    from costwise.sources.guarded import GuardedSocket

    scheme = urlsplit(url).scheme
    base = {"rediss": redis.SSLConnection, "unix": redis.UnixDomainSocketConnection}.get(scheme, redis.Connection)

    class Guarded(base):
        def _connect(self):
            return GuardedSocket(super()._connect(), guard)

    return Guarded


def _clean(message: str, url: str) -> str:
    """A server's or client's message, printable, short, and without the URL's secrets."""
    try:
        parts = urlsplit(url)
        secrets = [parts.password] if parts.password else []
    except ValueError:
        parts, secrets = urlsplit(""), []
    secrets += [kv.split("=", 1)[1] for kv in parts.query.split("&") if "=" in kv and kv.split("=", 1)[0].lower() in SECRET_PARAMS]
    for secret in filter(None, secrets):
        message = message.replace(secret, "***")
    return printable(redact_urls(message))[:200]
