"""Saved history files (`costwise fetch --output`, `--metrics-file`): CSV or Parquet, offline.

A file holds the usage contract as it was read: one long table (env, cache, timestamp, COLUMNS)
and a JSON header with the window and each environment's limits, engine, region and error.
"""

from __future__ import annotations

import json
from pathlib import Path

from costwise.errors import InputError
from costwise.fmt import iso_utc, parse_iso_utc
from costwise.usage import COLUMNS, CurrentLimits, EnvHistory, History, Window, empty_frame

FILE_FORMAT = "costwise-history/1"


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
        window = Window(parse_iso_utc(meta["window"]["start"]), parse_iso_utc(meta["window"]["end"]))
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


class HistoryFileSource:
    """A history file saved by `costwise fetch`."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = f"file:{self.path}"

    def read(self) -> History:
        return load_history(self.path)
