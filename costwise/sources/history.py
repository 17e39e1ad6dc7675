"""Usage history: what every source produces and every model consumes.

One `EnvHistory` per environment: an hourly frame (UTC index over the whole window, NaN where
CloudWatch had no point: gaps stay gaps), the cache's current limits and where they came from, and
an error when the environment could not be read. Saved to and loaded from CSV or Parquet so that
analysis runs offline.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costwise.errors import InputError
from costwise.fmt import iso_utc
from costwise.sources.plan import COLUMNS, Window

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

FILE_FORMAT = "costwise-history/1"


@dataclass
class CurrentLimits:
    max_storage_gb: float | None = None
    max_ecpu_per_second: float | None = None
    min_storage_gb: float | None = None
    min_ecpu_per_second: float | None = None
    source: str = "none"  # aws | config | file | demo | none


@dataclass
class EnvHistory:
    env: str
    cache: str
    engine: str | None
    region: str
    limits: CurrentLimits = field(default_factory=CurrentLimits)
    frame: "pd.DataFrame | None" = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    budget: float | None = None

    def meta(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "cache": self.cache,
            "engine": self.engine,
            "region": self.region,
            "limits": asdict(self.limits),
            "error": self.error,
            "warnings": list(self.warnings),
            "budget": self.budget,
        }


@dataclass
class History:
    window: Window
    environments: list[EnvHistory]
    source: str  # cloudwatch | file:PATH | demo
    api_calls: int = 0


def empty_frame(window: Window):
    import pandas as pd

    index = pd.date_range(window.start, periods=window.hours, freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame({c: float("nan") for c in COLUMNS}, index=index)


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def history_to_table(history: History):
    """One long table (env, cache, timestamp, metrics...) plus metadata for the file header."""
    import pandas as pd

    parts = []
    for env in history.environments:
        if env.frame is None:
            continue
        part = env.frame.reset_index()
        part.insert(0, "cache", env.cache)
        part.insert(0, "env", env.env)
        parts.append(part)
    columns = ["env", "cache", "timestamp", *COLUMNS]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    meta = {
        "format": FILE_FORMAT,
        "window": {"start": iso_utc(history.window.start), "end": iso_utc(history.window.end)},
        "source": history.source,
        "environments": [env.meta() for env in history.environments],
    }
    return table[columns], meta


def save_history(history: History, path: str | Path) -> None:
    from costwise.atomic import atomic_path

    path = Path(path)
    table, meta = history_to_table(history)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        require_parquet(path)
        table.attrs["costwise"] = json.dumps(meta)
        with atomic_path(path) as tmp:
            table.to_parquet(tmp, index=False)
    elif suffix == ".csv":
        out = table.copy()
        out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                handle.write(f"# {json.dumps(meta)}\n")
                out.to_csv(handle, index=False)
    else:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")


def require_parquet(path: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(f"{path}: Parquet needs pyarrow (pip install 'costwise[parquet]'), or use a .csv file") from None


def load_history(path: str | Path, source_label: str | None = None) -> History:
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: metrics file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            require_parquet(path)
            table = pd.read_parquet(path)
            meta_text = table.attrs.get("costwise")
        elif suffix == ".csv":
            with open(path, encoding="utf-8") as handle:
                first = handle.readline()
            if not first.startswith("# "):
                raise InputError(f"{path}: not a costwise history file (first line should be its '# {{...}}' header)")
            meta_text = first[2:]
            table = pd.read_csv(path, skiprows=1, dtype={"env": str, "cache": str})
        else:
            raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")
        meta = json.loads(meta_text) if meta_text else None
    except InputError:
        raise
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: cannot read history ({str(exc).splitlines()[0]})") from None
    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise InputError(f"{path}: not a costwise history file (format {FILE_FORMAT} expected)")
    missing = [c for c in ("env", "cache", "timestamp", *COLUMNS) if c not in table.columns]
    if missing:
        raise InputError(f"{path}: column {missing[0]!r} missing")
    try:
        window = Window(_parse_iso(meta["window"]["start"]), _parse_iso(meta["window"]["end"]))
        table["timestamp"] = pd.to_datetime(table["timestamp"], utc=True)
        for column in COLUMNS:
            table[column] = pd.to_numeric(table[column], errors="raise").astype(float)
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"{path}: malformed history ({exc})") from None
    groups = {name: group for name, group in table.groupby("env", sort=False)}
    environments = []
    for env_meta in meta.get("environments", []):
        frame = None
        group = groups.get(env_meta["env"])
        if group is not None:
            frame = group.set_index("timestamp")[list(COLUMNS)].reindex(empty_frame(window).index)
        limits = CurrentLimits(**env_meta.get("limits", {}))
        environments.append(
            EnvHistory(
                env=env_meta["env"],
                cache=env_meta["cache"],
                engine=env_meta.get("engine"),
                region=env_meta.get("region", "us-east-1"),
                limits=limits,
                frame=frame,
                error=env_meta.get("error"),
                warnings=list(env_meta.get("warnings", [])),
                budget=env_meta.get("budget"),
            )
        )
    return History(window=window, environments=environments, source=source_label or f"file:{path}")
