"""Saved history files (`costwise fetch --output`, `--metrics-file`): CSV or Parquet, offline.

A file holds the usage contract as it was read: one long table (env, cache, timestamp, COLUMNS)
and a JSON header with the window and each environment's limits, engine, region and error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from costwise.errors import InputError
from costwise.fmt import iso_utc, parse_iso_utc, printable, shorten
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
        "rows": int(len(table)),  # a file cut at a row's end is one short of this
        "window": {"start": iso_utc(history.window.start), "end": iso_utc(history.window.end)},
        "source": history.source,
        "environments": [env.meta() for env in history.environments],
    }
    return table[columns], meta


# Spreadsheets run a cell that starts with one of these as a formula: such names get a leading
# apostrophe in the CSV (as spreadsheets themselves do), which loading removes again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_CSV_BYTES = 256 << 20  # 256 MiB, ~900 caches x 30 days; larger fleets: Parquet
MAX_PARQUET_BYTES = 1 << 30
MAX_YEARS = 2  # CloudWatch keeps hourly data 455 days: a window longer than this is not a costwise file


def _escape_name(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_START) else name


def _unescape_name(name: str) -> str:
    return name[1:] if name.startswith("'") and name[1:].startswith(_FORMULA_START) else name


def save_history(history: History, path: str | Path) -> None:
    from costwise.atomic import STDOUT, atomic_path

    path = Path(path)
    table, meta = history_to_table(history)
    suffix = path.suffix.lower()
    if str(path) == STDOUT or (suffix not in (".csv", ".parquet") and path.exists() and not path.is_file()):
        suffix = ".csv"  # standard output, or a device or FIFO: CSV
    if suffix == ".parquet":
        require_parquet(path)
        table.attrs["costwise"] = json.dumps(meta)
        with atomic_path(path) as tmp:
            table.to_parquet(tmp, index=False)
    elif suffix == ".csv":
        out = table.copy()
        out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        for column in ("env", "cache"):
            out[column] = out[column].map(_escape_name)
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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return printable(text[0] if text else type(exc).__name__)[:200]


def load_history(path: str | Path, source_label: str | None = None) -> History:
    """Read and validate a history file: one line naming the file (and row and column) when it is
    not one costwise wrote or could have written."""
    import pandas as pd

    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        raise InputError(f"{path}: metrics file not found") from None
    if not path.is_file():
        raise InputError(f"{path}: not a regular file; give a history file saved by `costwise fetch`")
    suffix = path.suffix.lower()
    limit = MAX_PARQUET_BYTES if suffix == ".parquet" else MAX_CSV_BYTES
    if info.st_size > limit:
        raise InputError(f"{path}: {info.st_size / 2**20:,.0f} MiB is more than costwise reads ({limit >> 20:,} MiB)"
                         + ("; save large fleets as Parquet" if suffix == ".csv" else ""))
    try:
        if suffix == ".parquet":
            require_parquet(path)
            table = pd.read_parquet(path)
            meta_text = table.attrs.get("costwise")
        elif suffix == ".csv":
            with open(path, "rb") as handle:
                first = handle.readline(1 << 20).decode("utf-8")
                if handle.seek(0, os.SEEK_END) > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        raise InputError(f"{path}: truncated (its last line has no end); fetch it again")
            if not first.startswith("# "):
                raise InputError(f"{path}: not a costwise history file (first line should be its '# {{...}}' header)")
            meta_text = first[2:]
            table = pd.read_csv(path, skiprows=1, dtype={"env": str, "cache": str}, encoding="utf-8", on_bad_lines="error")
        else:
            raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")
        meta = json.loads(meta_text) if meta_text else None
    except InputError:
        raise
    except Exception as exc:  # pandas, pyarrow and json each have their own errors for a damaged file
        raise InputError(f"{path}: cannot read history ({_first_line(exc)})") from None
    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise InputError(f"{path}: not a costwise history file (format {FILE_FORMAT} expected)")
    missing = [c for c in ("env", "cache", "timestamp", *COLUMNS) if c not in table.columns]
    if missing:
        raise InputError(f"{path}: column {missing[0]!r} missing")
    try:
        window = Window(parse_iso_utc(meta["window"]["start"]), parse_iso_utc(meta["window"]["end"]))
        env_metas = [dict(e) for e in meta.get("environments", [])]
        for env_meta in env_metas:
            str(env_meta["env"]), str(env_meta["cache"])
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{path}: malformed header ({_first_line(exc)})") from None
    if not 0 < window.hours <= MAX_YEARS * 8784 or window.start.minute or window.start.second:
        raise InputError(f"{path}: header window {iso_utc(window.start)} to {iso_utc(window.end)} is not whole hours within two years")
    _validate_rows(path, table, window, csv=suffix == ".csv")
    counted = meta.get("rows")
    if isinstance(counted, int) and counted != len(table):
        what = "truncated" if len(table) < counted else "edited"
        raise InputError(f"{path}: {what} ({len(table):,} rows, its header counts {counted:,}); fetch it again")
    for column in ("env", "cache"):
        table[column] = table[column].astype(str).map(_unescape_name) if suffix == ".csv" else table[column].astype(str)
    groups = {name: group for name, group in table.groupby("env", sort=False)}
    environments = []
    for env_meta in env_metas:
        frame = None
        group = groups.get(env_meta["env"])
        if group is not None:
            frame = group.set_index("timestamp")[list(COLUMNS)].reindex(empty_frame(window).index)
        try:
            limits = CurrentLimits(**env_meta.get("limits", {}))
        except TypeError:
            raise InputError(f"{path}: malformed header (limits of {shorten(env_meta['env'])})") from None
        environments.append(
            EnvHistory(
                env=str(env_meta["env"]),
                cache=str(env_meta["cache"]),
                engine=env_meta.get("engine"),
                region=str(env_meta.get("region", "us-east-1")),
                limits=limits,
                frame=frame,
                error=env_meta.get("error"),
                warnings=[str(w) for w in env_meta.get("warnings", [])],
                budget=env_meta.get("budget"),
            )
        )
    return History(window=window, environments=environments, source=source_label or f"file:{path}")


def _validate_rows(path: Path, table, window: Window, csv: bool) -> None:
    """Every value a number >= 0 (or empty: a gap), every timestamp a whole hour inside the window,
    no hour twice for an environment. Converts the columns in place."""
    import numpy as np
    import pandas as pd

    def row_of(i: int) -> str:
        # CSV: line 1 is the header comment, line 2 the column names
        return f"line {i + 3}" if csv else f"row {i + 1}"

    stamps = pd.to_datetime(table["timestamp"], utc=True, errors="coerce", format="ISO8601")
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        raise InputError(f"{path}: {row_of(int(bad[0]))}, column timestamp: {shorten(table['timestamp'].iloc[bad[0]])} is not an ISO 8601 time")
    table["timestamp"] = stamps
    seconds = stamps.dt.tz_convert("UTC").dt.as_unit("s").astype("int64")
    start = int(pd.Timestamp(window.start).timestamp())
    offset = seconds.to_numpy() - start
    off_hour = np.flatnonzero(offset % 3600 != 0)
    if off_hour.size:
        raise InputError(f"{path}: {row_of(int(off_hour[0]))}, column timestamp: {iso_utc(stamps.iloc[off_hour[0]])} is not on the hour")
    outside = np.flatnonzero((offset < 0) | (offset >= window.hours * 3600))
    if outside.size:
        raise InputError(f"{path}: {row_of(int(outside[0]))}, column timestamp: {iso_utc(stamps.iloc[outside[0]])} is outside the header's window")
    duplicated = np.flatnonzero(table.duplicated(subset=["env", "timestamp"]).to_numpy())
    if duplicated.size:
        i = int(duplicated[0])
        raise InputError(f"{path}: {row_of(i)}: environment {shorten(str(table['env'].iloc[i]))} has {iso_utc(stamps.iloc[i])} twice")
    for column in COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        unreadable = np.flatnonzero((values.isna() & table[column].notna()).to_numpy())
        if unreadable.size:
            i = int(unreadable[0])
            raise InputError(f"{path}: {row_of(i)}, column {column}: {shorten(table[column].iloc[i])} is not a number")
        values = values.astype(float)
        array = values.to_numpy()
        wrong = np.flatnonzero(np.isinf(array) | (array < 0))
        if wrong.size:
            i = int(wrong[0])
            raise InputError(f"{path}: {row_of(i)}, column {column}: {array[i]:g} is not a usage figure (it must be 0 or more)")
        table[column] = values


MAX_DATASET_FILES = 10_000


def load_dataset(folder: Path) -> History:
    """Every history file (.parquet, .csv) under `folder`, e.g. one per `fetch --shard K/N` job or
    per account, as one History. The files must share one window; an environment in two files is
    bad input (two shards overlapping, or a file copied twice)."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".parquet", ".csv") and p.is_file())
    if not files:
        raise InputError(f"{folder}: no history files (.parquet or .csv from `costwise fetch`) in this folder")
    if len(files) > MAX_DATASET_FILES:
        raise InputError(f"{folder}: {len(files):,} history files is more than costwise reads ({MAX_DATASET_FILES:,})")
    merged: History | None = None
    seen: dict[str, Path] = {}
    for path in files:
        part = load_history(path)
        if merged is None:
            merged = History(part.window, [], f"dataset:{folder}", 0)
        elif part.window != merged.window:
            raise InputError(f"{path}: window {iso_utc(part.window.start)} to {iso_utc(part.window.end)} differs from "
                             f"{files[0].name}'s ({iso_utc(merged.window.start)} to {iso_utc(merged.window.end)}); fetch all parts with one --as-of")
        for env in part.environments:
            if env.env in seen:
                raise InputError(f"{path}: environment {shorten(env.env)} is also in {seen[env.env]}")
            seen[env.env] = path
            merged.environments.append(env)
    return merged


class HistoryFileSource:
    """A history file saved by `costwise fetch`, or a folder of them (a dataset)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.label = f"file:{self.path}"

    def read(self) -> History:
        return load_dataset(self.path) if self.path.is_dir() else load_history(self.path)
