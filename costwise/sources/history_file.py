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
from costwise.usage import COLUMNS, DRIVERS_FORMAT, CurrentLimits, DriverTotals, EnvHistory, History, Window, empty_frame

FILE_FORMAT = "costwise-history/1"


def _meta(history: History, rows: int) -> dict:
    return {
        "format": FILE_FORMAT,
        "rows": rows,  # a file cut at a row's end is one short of this
        "window": {"start": iso_utc(history.window.start), "end": iso_utc(history.window.end)},
        "source": history.source,
        "environments": [env.meta() for env in history.environments],
    }


ENVS_PER_PART = 500  # environments per Parquet row group / CSV chunk: 360,000 rows for 30 days


def table_parts(history: History):
    """The long table (env, cache, timestamp, COLUMNS) a few hundred environments at a time, so that
    writing a fleet never holds a second copy of all its frames."""
    import pandas as pd

    with_frames = [env for env in history.environments if env.frame is not None]
    for i in range(0, len(with_frames), ENVS_PER_PART):
        chunk = with_frames[i : i + ENVS_PER_PART]
        parts = []
        for env in chunk:
            part = env.frame.reset_index()
            part.insert(0, "cache", env.cache)
            part.insert(0, "env", env.env)
            parts.append(part)
        table = pd.concat(parts, ignore_index=True)
        yield table[["env", "cache", "timestamp", *COLUMNS]]


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
    """Write `history` as CSV or Parquet (by the name's suffix; stdout, a device or a FIFO get CSV),
    atomically, a few hundred environments at a time."""
    from costwise.atomic import STDOUT, atomic_path

    path = Path(path)
    rows = sum(len(env.frame) for env in history.environments if env.frame is not None)
    meta = _meta(history, rows)
    suffix = path.suffix.lower()
    if str(path) == STDOUT or (suffix not in (".csv", ".parquet") and path.exists() and not path.is_file()):
        suffix = ".csv"  # standard output, or a device or FIFO: CSV
    if suffix == ".parquet":
        require_parquet(path)
        with atomic_path(path) as tmp:
            _write_parquet(history, meta, tmp)
    elif suffix == ".csv":
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                handle.write(f"# {json.dumps(meta)}\n")
                handle.write(",".join(["env", "cache", "timestamp", *COLUMNS]) + "\n")
                for part in table_parts(history):
                    part = part.copy()
                    part["timestamp"] = part["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                    for column in ("env", "cache"):
                        part[column] = part[column].map(_escape_name)
                    part.to_csv(handle, index=False, header=False)
    else:
        raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")


THIS_ACCOUNT = "self"  # the partition of caches in the account costwise runs in (no `accounts:` entry)


def partition_name(value: str) -> str:
    """A partition value as a safe folder name: letters, digits, '.', '_' and '-' as they are, any
    other byte %XX (as Hive and pyarrow escape them), so no name from a config or AWS can climb out
    of the dataset folder or hide a control character."""
    from urllib.parse import quote

    text = quote(value, safe="") or "%00"
    return text.replace(".", "%2E") if set(text) == {"."} else text


def save_dataset(history: History, folder: Path, shard: tuple[int, int] | None = None) -> list[Path]:
    """A partitioned Parquet dataset: FOLDER/account=A/region=R/part[-K-of-N].parquet, one file per
    account-region of this run, each written atomically. N sharded jobs write distinct names into
    the same folders; `--metrics-file FOLDER` reads them back as one history."""
    from dataclasses import replace

    require_parquet(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    groups: dict[tuple[str, str], list] = {}
    for env in history.environments:
        groups.setdefault((env.account or THIS_ACCOUNT, env.region), []).append(env)
    name = f"part-{shard[0]}-of-{shard[1]}.parquet" if shard else "part.parquet"
    written = []
    for (account, region), envs in sorted(groups.items()):
        target = folder / f"account={partition_name(account)}" / f"region={partition_name(region)}"
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{target}: cannot create ({exc.strerror or exc})") from None
        save_history(replace(history, environments=envs), target / name)
        written.append(target / name)
    return written


def _parquet_schema(meta: dict):
    import pyarrow as pa

    fields = [pa.field("env", pa.string()), pa.field("cache", pa.string()), pa.field("timestamp", pa.timestamp("ns", tz="UTC"))]
    fields += [pa.field(column, pa.float64()) for column in COLUMNS]
    return pa.schema(fields, metadata={b"costwise": json.dumps(meta).encode()})


def _write_parquet(history: History, meta: dict, tmp: Path) -> None:
    """One row group per few hundred environments; env and cache dictionary-encoded (a name is
    stored once per row group, not once per hour)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema(meta)
    with pq.ParquetWriter(tmp, schema, use_dictionary=["env", "cache"], compression="zstd") as writer:
        for part in table_parts(history):
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))


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
    not one costwise wrote or could have written. Parquet is read a row group at a time, so a fleet's
    file costs little more memory than its frames."""
    import pandas as pd

    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        raise InputError(f"{path}: metrics file not found") from None
    if not path.is_file():
        raise InputError(f"{path}: not a regular file; give a history file saved by `costwise fetch`")
    from costwise.atomic import note_input

    note_input(path, info)  # no output of this command may replace it
    suffix = path.suffix.lower()
    limit = MAX_PARQUET_BYTES if suffix == ".parquet" else MAX_CSV_BYTES
    if info.st_size > limit:
        raise InputError(f"{path}: {info.st_size / 2**20:,.0f} MiB is more than costwise reads ({limit >> 20:,} MiB)"
                         + ("; save large fleets as Parquet" if suffix == ".csv" else ""))
    try:
        if suffix == ".parquet":
            require_parquet(path)
            meta_text, parts = _parquet_parts(path)
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
            parts = iter([table])
        else:
            raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")
        meta = json.loads(meta_text) if meta_text else None
    except InputError:
        raise
    except Exception as exc:  # pandas, pyarrow and json each have their own errors for a damaged file
        raise InputError(f"{path}: cannot read history ({_first_line(exc)})") from None
    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise InputError(f"{path}: not a costwise history file (format {FILE_FORMAT} expected)")
    try:
        window = Window(parse_iso_utc(meta["window"]["start"]), parse_iso_utc(meta["window"]["end"]))
        env_metas = [dict(e) for e in meta.get("environments", [])]
        for env_meta in env_metas:
            str(env_meta["env"]), str(env_meta["cache"])
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{path}: malformed header ({_first_line(exc)})") from None
    if not 0 < window.hours <= MAX_YEARS * 8784 or window.start.minute or window.start.second:
        raise InputError(f"{path}: header window {iso_utc(window.start)} to {iso_utc(window.end)} is not whole hours within two years")
    hours = empty_frame(window).index
    frames: dict[str, object] = {}
    rows = 0
    while True:
        try:
            table = next(parts, None)
        except Exception as exc:  # a damaged row group further into the file
            raise InputError(f"{path}: cannot read history ({_first_line(exc)})") from None
        if table is None:
            break
        missing = [c for c in ("env", "cache", "timestamp", *COLUMNS) if c not in table.columns]
        if missing:
            raise InputError(f"{path}: column {missing[0]!r} missing")
        _validate_rows(path, table, window, csv=suffix == ".csv", first_row=rows)
        for column in ("env", "cache"):
            table[column] = table[column].astype(str).map(_unescape_name) if suffix == ".csv" else table[column].astype(str)
        for name, group in table.groupby("env", sort=False):
            if name in frames:  # rows of one environment in two row groups: never written so
                raise InputError(f"{path}: environment {shorten(name)} has rows in two parts of the file")
            frames[name] = group.set_index("timestamp")[list(COLUMNS)].reindex(hours)
        rows += len(table)
    counted = meta.get("rows")
    if isinstance(counted, int) and counted != rows:
        what = "truncated" if rows < counted else "edited"
        raise InputError(f"{path}: {what} ({rows:,} rows, its header counts {counted:,}); fetch it again")
    environments = []
    for env_meta in env_metas:
        try:
            limits = CurrentLimits(**env_meta.get("limits", {}))
        except TypeError:
            raise InputError(f"{path}: malformed header (limits of {shorten(env_meta['env'])})") from None
        account = env_meta.get("account")
        tags = env_meta.get("tags") or {}
        if not isinstance(tags, dict):
            raise InputError(f"{path}: malformed header (tags of {shorten(env_meta['env'])})")
        environments.append(
            EnvHistory(
                env=str(env_meta["env"]),
                cache=str(env_meta["cache"]),
                engine=env_meta.get("engine"),
                region=str(env_meta.get("region", "us-east-1")),
                limits=limits,
                frame=frames.get(str(env_meta["env"])),
                error=env_meta.get("error"),
                warnings=[str(w) for w in env_meta.get("warnings", [])],
                budget=env_meta.get("budget"),
                account=str(account) if account else None,
                tags={str(k): str(v) for k, v in tags.items()},
                drivers=drivers_block(path, str(env_meta["env"]), env_meta.get("drivers")),
            )
        )
    return History(window=window, environments=environments, source=source_label or f"file:{path}")


def drivers_block(path: Path, env: str, block) -> DriverTotals | None:
    """An environment's drivers block (window totals of the driver metrics, issue 21), checked:
    absent in files from before it (None); otherwise every value a number >= 0 or null (not
    published), else one line naming the file, environment and field."""
    if block is None:
        return None
    where = f"{path}: environment {shorten(env)}, drivers"
    if not isinstance(block, dict) or block.get("format") != DRIVERS_FORMAT:
        raise InputError(f"{where}.format: {DRIVERS_FORMAT} expected")
    values = block.get("values")
    if not isinstance(values, dict):
        raise InputError(f"{where}.values: a mapping of metric name to its window total expected")
    checked: dict[str, float | None] = {}
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf")):
            raise InputError(f"{where}.values.{printable(str(name))[:80]}: {shorten(value)} is not a window total (a number, 0 or more, or null)")
        checked[str(name)] = None if value is None else float(value)
    partial = block.get("partial", [])
    if not isinstance(partial, list) or not all(isinstance(name, str) for name in partial):
        raise InputError(f"{where}.partial: a list of metric names expected")
    return DriverTotals(checked, tuple(partial))


def _parquet_parts(path: Path):
    """(header JSON, an iterator of row groups as DataFrames). Files written before row groups were
    streamed keep the header in pandas' own metadata."""
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    schema = handle.schema_arrow
    metadata = schema.metadata or {}
    meta_text = metadata.get(b"costwise")
    if meta_text is None and b"PANDAS_ATTRS" in metadata:  # written by pandas' to_parquet with df.attrs
        attrs = json.loads(metadata[b"PANDAS_ATTRS"])
        meta_text = attrs.get("costwise") if isinstance(attrs, dict) else None

    def parts():
        for i in range(handle.num_row_groups):
            yield handle.read_row_group(i).to_pandas()

    return meta_text, parts()


def _validate_rows(path: Path, table, window: Window, csv: bool, first_row: int = 0) -> None:
    """Every value a number >= 0 (or empty: a gap), every timestamp a whole hour inside the window,
    no hour twice for an environment. Converts the columns in place."""
    import numpy as np
    import pandas as pd

    def row_of(i: int) -> str:
        # CSV: line 1 is the header comment, line 2 the column names
        return f"line {first_row + i + 3}" if csv else f"row {first_row + i + 1}"

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
