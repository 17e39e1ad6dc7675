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


def redact(url: str) -> str:
    """The URL without its password, for messages and reports."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def parse_duration(text: str) -> float:
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text and text[-1] in units:
            value = float(text[:-1]) * units[text[-1]]
        else:
            value = float(text)
    except ValueError:
        raise InputError(f"--sample: {text!r} is not a duration such as 60s, 5m or 1h") from None
    if value <= 0 or value > 24 * 3600:
        raise InputError("--sample: between 1 second and 24 hours")
    return value


def sample_info(url: str, seconds: float, tls: bool = False, timeout: float = 10.0) -> ServerSample:
    try:
        import redis
    except ImportError:
        raise CostwiseError("--from-redis needs the redis client: pip install 'costwise[redis]'", 2) from None
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "valkey", "valkeys"):
        raise InputError(f"--from-redis: {redact(url)!r} is not a redis:// or rediss:// URL")
    if scheme.startswith("valkey"):
        url = "redis" + url[len("valkey"):]
    if tls and url.startswith("redis://"):
        url = "rediss://" + url[len("redis://"):]
    shown = redact(url)
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, lib_name=None, lib_version=None)
        first = client.info("all")
        start = time.monotonic()
        time.sleep(seconds)
        second = client.info("all")
        elapsed = time.monotonic() - start
        third = client.info("all")
    except redis.exceptions.AuthenticationError:
        raise CostwiseError(f"{shown}: authentication failed (wrong password or user)") from None
    except redis.exceptions.ResponseError as exc:
        message = str(exc)
        if "NOAUTH" in message or "WRONGPASS" in message or "invalid username-password" in message.lower():
            raise CostwiseError(f"{shown}: authentication failed ({message.split(',')[0]})") from None
        raise CostwiseError(f"{shown}: the server refused INFO ({message})") from None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
        reason = str(exc).split(". ")[0] or type(exc).__name__
        raise CostwiseError(f"cannot connect to {shown}: {reason}") from None
    finally:
        try:
            client.close()
        except Exception:
            pass

    def moved(info: dict) -> float:
        return float(info.get("total_net_input_bytes", 0)) + float(info.get("total_net_output_bytes", 0))

    return ServerSample(first, second, elapsed, max(moved(third) - moved(second), 0.0))
