"""Saved history files (`costwise fetch --output`, `--metrics-file`): CSV or Parquet, offline.

A file holds the usage contract as it was read: one long table (env, cache, timestamp, COLUMNS)
and a JSON header with the window and each environment's limits, engine, region and error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from costwise.errors import InputError
from costwise.fmt import iso_utc, number, parse_iso_utc, printable, shorten
from costwise.limits import MAX_ECPU_PER_HOUR, MAX_ECPU_PER_MINUTE, MAX_STORAGE_BYTES, MAX_THROTTLED_PER_HOUR
from costwise.driver_metrics import driver_bound
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
    """Read and validate a history file: one line naming the file (and row and column, or header
    field) when it is not one costwise wrote or could have written. The header is checked by the
    same rules as costwise.yaml before any row is read; a Parquet file's row count and sizes are
    checked against the header from its metadata before a row is materialised, and it is read in
    batches of BATCH_ROWS, so a fleet's file costs little more memory than its frames."""
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
    csv = suffix == ".csv"
    try:
        if suffix == ".parquet":
            require_parquet(path)
            handle = _open_parquet(path)
            meta_text = _parquet_header(handle)
            if meta_text is not None and len(meta_text) > MAX_HEADER_BYTES:
                raise InputError(f"{path}: its header is longer than {MAX_HEADER_BYTES >> 20} MiB; not a costwise history file")
        elif csv:
            meta_text = _csv_header(path)
        else:
            raise InputError(f"{path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")
        meta = json.loads(meta_text) if meta_text else None
    except InputError:
        raise
    except Exception as exc:  # pyarrow and json each have their own errors for a damaged file
        raise InputError(f"{path}: cannot read history ({_first_line(exc)})") from None
    window, environments = _header(path, meta)
    if csv:
        parts = _csv_parts(path)
    else:
        _check_parquet_size(path, handle, window, len(environments))
        parts = _parquet_parts(path, handle)
    known = {env.env for env in environments}
    allowed_rows = min(window.hours * len(environments), MAX_ROWS)
    pieces: dict[str, list] = {}  # each environment's rows, as read (a row group comes in batches)
    part_of: dict[str, int] = {}
    rows = 0
    while True:
        try:
            part, table = next(parts, (None, None))
        except InputError:
            raise
        except Exception as exc:  # pandas and pyarrow errors for a damaged file or row group
            raise InputError(f"{path}: cannot read history ({_first_line(exc)})") from None
        if table is None:
            break
        missing = [c for c in ("env", "cache", "timestamp", *COLUMNS) if c not in table.columns]
        if missing:
            raise InputError(f"{path}: column {missing[0]!r} missing")
        for column in ("env", "cache"):
            table[column] = table[column].astype(str).map(_unescape_name) if csv else table[column].astype(str)
        _validate_rows(path, table, window, known, csv=csv, first_row=rows)
        for name, group in table.groupby("env", sort=False, observed=True):
            if part_of.setdefault(name, part) != part:  # rows of one environment in two row groups: never written so
                raise InputError(f"{path}: environment {shorten(name)} has rows in two parts of the file")
            pieces.setdefault(name, []).append(group.set_index("timestamp")[list(COLUMNS)])
        rows += len(table)
        if rows > allowed_rows:  # more rows than the header's hours x environments: stop reading
            raise InputError(f"{path}: more than {allowed_rows:,} rows, what its header's {window.hours:,} hours x "
                             f"{len(environments):,} environments allow; not a costwise history file")
    counted = meta.get("rows")
    if isinstance(counted, int) and counted != rows:
        what = "truncated" if rows < counted else "edited"
        raise InputError(f"{path}: {what} ({rows:,} rows, its header counts {counted:,}); fetch it again")
    hours = empty_frame(window).index
    for env in environments:
        env.frame = _hourly_frame(path, env.env, pieces.pop(env.env, None), hours)
    return History(window=window, environments=environments, source=source_label or f"file:{path}")


def _hourly_frame(path: Path, name: str, pieces: list | None, hours):
    """One environment's rows (read in one or more batches) on the window's hours."""
    import pandas as pd

    if pieces is None:
        return None
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces)
    if len(pieces) > 1 and frame.index.has_duplicates:  # within one batch _validate_rows names the row
        raise InputError(f"{path}: environment {shorten(name)} has {iso_utc(frame.index[frame.index.duplicated()][0])} twice")
    return frame.reindex(hours)


# A header is at most this long: ~50,000 environments (costwise writes ~330 bytes for one without
# tags), five times the largest fleet benchmarked, while a file that is one endless line is
# refused after reading this much. It lists at most MAX_ENVIRONMENTS.
MAX_HEADER_BYTES = 16 << 20
MAX_ENVIRONMENTS = 50_000


def _csv_header(path: Path) -> str:
    """The JSON text of a CSV's first line ('# {...}'), read no further than MAX_HEADER_BYTES; a
    file whose last line has no end is truncated."""
    with open(path, "rb") as handle:
        first = handle.readline(MAX_HEADER_BYTES + 1)
        if len(first) > MAX_HEADER_BYTES:
            raise InputError(f"{path}: its header line is longer than {MAX_HEADER_BYTES >> 20} MiB; not a costwise history file")
        if handle.seek(0, os.SEEK_END) > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                raise InputError(f"{path}: truncated (its last line has no end); fetch it again")
    text = first.decode("utf-8")
    if not text.startswith("# "):
        raise InputError(f"{path}: not a costwise history file (first line should be its '# {{...}}' header)")
    return text[2:]


def _csv_parts(path: Path):
    """(0, DataFrame) BATCH_ROWS rows at a time: the whole file is one part, read in batches."""
    import pandas as pd

    # Only an empty cell is a gap: "NaN", "N/A", "null" are text (refused as values, kept as names)
    with pd.read_csv(path, skiprows=1, dtype={"env": str, "cache": str}, encoding="utf-8", on_bad_lines="error",
                     keep_default_na=False, na_values=[""], chunksize=BATCH_ROWS) as reader:
        for table in reader:
            yield 0, table


# The header's environment fields (usage.EnvHistory.meta), as every version of costwise wrote them
HEADER_ENV_KEYS = {"env", "cache", "engine", "region", "limits", "error", "warnings", "budget", "account", "tags", "drivers"}
HEADER_LIMIT_KEYS = ("max_storage_gb", "max_ecpu_per_second", "min_storage_gb", "min_ecpu_per_second")


def _header(path: Path, meta) -> tuple[Window, list[EnvHistory]]:
    """The window and the environments (without frames) of a history file's header, each field
    checked by the same code and rules as costwise.yaml's (config.py): a budget is a finite number
    of dollars, limits whole numbers in AWS's ranges, an engine one costwise prices; an environment
    listed twice is refused (it would be reported, and totalled, twice)."""
    from costwise.config import _check_keys, _expect, check_budget, check_engine, check_limits, check_tags

    if not isinstance(meta, dict) or meta.get("format") != FILE_FORMAT:
        raise InputError(f"{path}: not a costwise history file (format {FILE_FORMAT} expected)")
    try:
        window = Window(parse_iso_utc(meta["window"]["start"]), parse_iso_utc(meta["window"]["end"]))
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{path}: malformed header ({_first_line(exc)})") from None
    if not 0 < window.hours <= MAX_YEARS * 8784 or window.start.minute or window.start.second:
        raise InputError(f"{path}: header window {iso_utc(window.start)} to {iso_utc(window.end)} is not whole hours within two years")
    label = f"{path}: header"
    env_metas = _expect(f"{label} environments", meta.get("environments", []), (list,), "a list of environments")
    if len(env_metas) > MAX_ENVIRONMENTS:
        raise InputError(f"{label} environments: {len(env_metas):,} is more than costwise reads from one file ({MAX_ENVIRONMENTS:,})")
    environments: dict[str, EnvHistory] = {}
    for i, env_meta in enumerate(env_metas):
        _expect(f"{label} environments[{i}]", env_meta, (dict,), "a mapping")
        if "env" not in env_meta or "cache" not in env_meta:
            raise InputError(f"{label} environments[{i}].{'env' if 'env' not in env_meta else 'cache'}: missing")
        name = _expect(f"{label} environments[{i}].env", env_meta["env"], (str,), "an environment name")
        where = f"{label} environments.{printable(name)[:60]}"
        if name in environments:
            raise InputError(f"{where}: listed twice (its hours would be counted twice)")
        _check_keys(where, env_meta, HEADER_ENV_KEYS)
        error = env_meta.get("error")
        if error is not None:
            _expect(f"{where}.error", error, (str,), "text")
        engine = env_meta.get("engine")
        # an environment that failed keeps the engine AWS named, which may be one costwise does not price
        engine = check_engine(f"{where}.engine", engine) if error is None else _expect(f"{where}.engine", engine, (str, type(None)), "an engine name")
        limits = dict(env_meta.get("limits") or {})
        source = _expect(f"{where}.limits.source", limits.pop("source", "file"), (str,), "text")
        warnings = _expect(f"{where}.warnings", env_meta.get("warnings") or [], (list,), "a list of messages")
        account = env_meta.get("account")
        if account is not None:
            _expect(f"{where}.account", account, (str,), "an account name")
        environments[name] = EnvHistory(
            env=name,
            cache=_expect(f"{where}.cache", env_meta["cache"], (str,), "a cache name"),
            engine=engine,
            region=_expect(f"{where}.region", env_meta.get("region", "us-east-1"), (str,), "a region name"),
            limits=CurrentLimits(**check_limits(f"{where}.limits", limits, HEADER_LIMIT_KEYS), source=source),
            error=error,
            warnings=[str(w) for w in warnings],
            budget=check_budget(f"{where}.budget", env_meta.get("budget")),
            account=account or None,
            tags=dict(check_tags(f"{where}.tags", env_meta.get("tags") or None)),
            drivers=drivers_block(path, name, env_meta.get("drivers"), window.hours),
        )
    return window, list(environments.values())


def drivers_block(path: Path, env: str, block, hours: int) -> DriverTotals | None:
    """An environment's drivers block (window totals of the driver metrics, issue 21), checked:
    absent in files from before it (None); otherwise every value a number from 0 to what one cache
    can do in the window's `hours` (driver_metrics.driver_bound), or null (not published), else one line naming the
    file, environment and field."""
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
        if value is not None and value > driver_bound(str(name), hours):
            raise InputError(f"{where}.values.{printable(str(name))[:80]}: {number(value)} is more than one cache can total in "
                             f"{hours:,} hours (at most {driver_bound(str(name), hours):,.0f})")
        checked[str(name)] = None if value is None else float(value)
    partial = block.get("partial", [])
    if not isinstance(partial, list) or not all(isinstance(name, str) for name in partial):
        raise InputError(f"{where}.partial: a list of metric names expected")
    return DriverTotals(checked, tuple(partial))


# Rows costwise reads from one file, whatever its header says: ~28,000 caches x 30 days, about
# 1 GiB of hourly frames in memory.
MAX_ROWS = 20_000_000
# What one row costs uncompressed in a Parquet file costwise writes (a timestamp, five floats, two
# dictionary indices, ~60 bytes), with room to spare; plus the names' dictionaries per row group.
MAX_BYTES_PER_ROW = 256
MAX_DICTIONARY_BYTES = 64 << 20


def _open_parquet(path: Path):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, read_dictionary=["env", "cache"])


def _parquet_header(handle) -> str | None:
    """The header JSON. Files written before row groups were streamed keep it in pandas' own metadata."""
    metadata = handle.schema_arrow.metadata or {}
    meta_text = metadata.get(b"costwise")
    if meta_text is None and b"PANDAS_ATTRS" in metadata:  # written by pandas' to_parquet with df.attrs
        attrs = json.loads(metadata[b"PANDAS_ATTRS"])
        meta_text = attrs.get("costwise") if isinstance(attrs, dict) else None
    return meta_text


def _check_parquet_size(path: Path, handle, window: Window, environments: int) -> None:
    """Refuse, from the file's metadata alone, more rows than its header can hold (one per hour and
    environment, at most MAX_ROWS) and row groups that would expand past what such rows take: a
    1 MB file of 40 million identical rows is refused before any of them is read."""
    metadata = handle.metadata
    allowed = min(window.hours * environments, MAX_ROWS)
    if metadata.num_rows > allowed:
        why = (f"its header's {window.hours:,} hours x {environments:,} environments" if allowed < MAX_ROWS
               else f"costwise reads from one file ({MAX_ROWS:,})")
        raise InputError(f"{path}: {metadata.num_rows:,} rows is more than {why} allow; not a costwise history file")
    oversized = oversized_row_group(metadata, MAX_BYTES_PER_ROW, MAX_DICTIONARY_BYTES)
    if oversized:
        raise InputError(f"{path}: {oversized}; not a costwise history file")


def oversized_row_group(metadata, bytes_per_row: int, dictionary_bytes: int, columns: set[str] | None = None) -> str | None:
    """From a Parquet file's metadata alone: the first row group whose uncompressed size (of
    `columns`, or of them all) passes `bytes_per_row` a row plus `dictionary_bytes`, said as
    "row group N expands to X MiB for R rows"; None when every one fits."""
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        size = group.total_byte_size if columns is None else sum(
            group.column(j).total_uncompressed_size for j in range(group.num_columns) if group.column(j).path_in_schema in columns)
        if size > group.num_rows * bytes_per_row + dictionary_bytes:
            return f"row group {i + 1} expands to {size / 2**20:,.0f} MiB for {group.num_rows:,} rows"
    return None


BATCH_ROWS = 1 << 18  # rows of a row group materialised at once (~80 MB while they are validated)


def _parquet_parts(path: Path, handle):
    """(row group, DataFrame) a batch at a time, so even a row group of millions of rows is never
    whole in memory; env and cache as categories (a name is held once per batch, not once per
    hour); a NaN that is not a null refused like the text "NaN" in a CSV."""
    import pyarrow as pa
    import pyarrow.compute as pc

    row = 0
    for i in range(handle.num_row_groups):
        for batch in handle.iter_batches(batch_size=BATCH_ROWS, row_groups=[i]):
            for column in COLUMNS:
                if column in batch.schema.names and pa.types.is_floating(batch.schema.field(column).type):
                    nan = pc.is_nan(batch.column(column))
                    if pc.any(nan).as_py():
                        at = row + pc.index(nan, True).as_py() + 1
                        raise InputError(f"{path}: row {at}, column {column}: NaN is not a number (a gap is an empty value)")
            row += batch.num_rows
            yield i, batch.to_pandas()


# What CloudWatch can report for one serverless cache's hour (limits.py: AWS's largest limits, 2x)
COLUMN_MAXIMUM = {"storage_avg_bytes": MAX_STORAGE_BYTES, "storage_max_bytes": MAX_STORAGE_BYTES, "ecpu_sum": MAX_ECPU_PER_HOUR,
                  "ecpu_max_minute": MAX_ECPU_PER_MINUTE, "throttled_sum": MAX_THROTTLED_PER_HOUR}


def _validate_rows(path: Path, table, window: Window, known: set[str], csv: bool, first_row: int = 0) -> None:
    """Every row of an environment in the header; every value a number from 0 to what AWS can report
    (or empty: a gap; "NaN" or "N/A" is not a number), every timestamp a whole hour inside the
    window, no hour twice for an environment. Converts the columns in place."""
    import numpy as np
    import pandas as pd

    def row_of(i: int) -> str:
        # CSV: line 1 is the header comment, line 2 the column names
        return f"line {first_row + i + 3}" if csv else f"row {first_row + i + 1}"

    stranger = np.flatnonzero(~table["env"].isin(known).to_numpy())
    if stranger.size:
        i = int(stranger[0])
        raise InputError(f"{path}: {row_of(i)}, column env: environment {shorten(table['env'].iloc[i])} is not in the header")
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
        too_large = np.flatnonzero(array > COLUMN_MAXIMUM[column])
        if too_large.size:
            i = int(too_large[0])
            raise InputError(f"{path}: {row_of(i)}, column {column}: {array[i]:g} is more than a serverless cache can report "
                             f"(at most {COLUMN_MAXIMUM[column]:.4g})")
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
    rows = 0
    for path in files:
        part = load_history(path)
        rows += part.window.hours * sum(env.frame is not None for env in part.environments)
        if rows > MAX_ROWS:  # each file is bounded; so is what the folder adds up to
            raise InputError(f"{folder}: its files hold more than {MAX_ROWS:,} hourly rows (at {path}); "
                             "read fewer shards or accounts at once")
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
