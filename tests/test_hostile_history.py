"""Hostile history files, round 3 (issue 23): the header is validated like costwise.yaml, every
value is bounded by what AWS can report, only an empty cell is a missing hour, rows and bytes are
bounded before they are read, and a file costwise wrote itself always reads back.

Most cases call load_history in this process (the one line it raises is what the CLI prints); a
few go through the real CLI to check the exit code, the single line and the peak memory.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from costwise.errors import InputError
from costwise.sources.history_file import load_dataset, load_history, save_dataset, save_history
from costwise.usage import CurrentLimits, EnvHistory, History, Window, empty_frame
from tests.helpers import END, GIB, START, assert_one_line, costwise

WINDOW = Window(START, END)  # 2026-11-18T00:00Z to 2026-11-20T00:00Z: 48 hours


def _history(names=("dev", "gone"), window: Window = WINDOW) -> History:
    """Each environment: 1 GiB stored, 3.6e6 ECPUs an hour (1,000 ECPU/s), busiest minute 6e4."""
    envs = []
    for name in names:
        frame = empty_frame(window)
        frame[["storage_avg_bytes", "storage_max_bytes"]] = GIB
        frame["ecpu_sum"] = 3.6e6
        frame["ecpu_max_minute"] = 6e4
        frame["throttled_sum"] = 0.0
        envs.append(EnvHistory(env=name, cache=f"{name}-cache", engine="valkey", region="us-east-1", frame=frame, budget=5.0,
                               limits=CurrentLimits(max_storage_gb=10, max_ecpu_per_second=5000, source="aws")))
    return History(window, envs, "cloudwatch")


def _saved(tmp_path: Path, suffix: str, history: History | None = None, name: str = "history") -> Path:
    path = tmp_path / f"{name}{suffix}"
    save_history(history or _history(), path)
    return path


def _edit_header(path: Path, edit) -> None:
    """Apply `edit` to the header (a dict) of a saved CSV or Parquet file, in place."""
    if path.suffix == ".csv":
        first, rest = path.read_text().split("\n", 1)
        meta = json.loads(first[2:])
        edit(meta)
        path.write_text(f"# {json.dumps(meta)}\n{rest}")
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[b"costwise"])
        edit(meta)
        pq.write_table(table.replace_schema_metadata({b"costwise": json.dumps(meta)}), path)


def _env(name: str, **fields):
    def edit(meta):
        entry = next(e for e in meta["environments"] if e["env"] == name)
        for key, value in fields.items():
            if key.startswith("limits."):
                entry["limits"][key.split(".", 1)[1]] = value
            else:
                entry[key] = value
    return edit


def _no_settings(tmp_path: Path) -> Path:
    """A costwise.yaml that sets nothing (so the repository's own, if any, is not read)."""
    path = tmp_path / "empty.yaml"
    path.write_text("{}\n")
    return path


def _refused(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_history(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message


# ---- the header, checked by costwise.yaml's rules ------------------------------------------------

HEADER_CASES = [
    # a NaN budget made --fail-on-budget pass ("$nan"); infinity and -1 were accepted
    (_env("dev", budget=float("nan")), "header environments.dev.budget: expected a finite number, got nan"),
    (_env("dev", budget=float("inf")), "header environments.dev.budget: expected a finite number, got inf"),
    (_env("dev", budget=-1), "header environments.dev.budget: must be between 0 and 1,000,000,000,000, got -1"),
    # a string was an "internal error" later; an integer too big for a float is compared, never converted
    (_env("dev", budget="500"), "header environments.dev.budget: expected a number of US dollars per month, got '500'"),
    (_env("dev", budget=10**400), "header environments.dev.budget: must be between 0 and 1,000,000,000,000, got 1000000"),
    # limits: numbers, whole, inside AWS's ranges (DataStorage 1..5000 GB, ECPUPerSecond 1,000..15,000,000)
    (_env("dev", **{"limits.max_storage_gb": "5"}), "header environments.dev.limits.max_storage_gb: expected a number, got '5'"),
    (_env("dev", **{"limits.max_ecpu_per_second": 500}), "limits.max_ecpu_per_second: 500 ECPU/s is outside AWS's range 1,000..15,000,000"),
    (_env("dev", **{"limits.min_storage_gb": 6000}), "limits.min_storage_gb: 6,000 GB is outside AWS's range 1..5000 GB"),
    (_env("dev", **{"limits.max_storage_gb": 10**400}), "limits.max_storage_gb: a 401-digit number GB is outside AWS's range"),
    (_env("dev", **{"limits.max_storage_gb": float("nan")}), "limits.max_storage_gb: expected a finite number"),
    (_env("dev", engine="dragonfly"), "header environments.dev.engine: unknown engine 'dragonfly'"),
    (_env("dev", tags=["team"]), "header environments.dev.tags: expected a mapping of tag name to value"),
    (_env("dev", budjet=5), "header environments.dev.budjet: unknown key"),
    # an environment listed twice was reported twice and doubled the totals
    (lambda meta: meta["environments"].append(dict(meta["environments"][0])), "header environments.dev: listed twice"),
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("edit, needle", HEADER_CASES)
def test_the_header_is_validated_like_costwise_yaml(tmp_path, suffix, edit, needle):
    path = _saved(tmp_path, suffix)
    _edit_header(path, edit)
    assert needle in _refused(path)


def test_header_and_config_share_one_rule_and_one_message(tmp_path):
    # the same budget in costwise.yaml and in a history file's header: the same words after the place
    config = tmp_path / "budgets.yaml"
    config.write_text("environments:\n  dev:\n    cache: dev-cache\n    budget: -1\n")
    history = _saved(tmp_path, ".csv")
    _edit_header(history, _env("dev", budget=-1))
    from_config = costwise("report", "--config", str(config), "--demo")
    from_history = costwise("report", "--metrics-file", str(history), "--config", str(_no_settings(tmp_path)))
    rule = "environments.dev.budget: must be between 0 and 1,000,000,000,000, got -1"
    assert_one_line(from_config, 2, f"{config}: {rule}")
    assert_one_line(from_history, 2, f"{history}: header {rule}")


def test_a_nan_budget_no_longer_passes_fail_on_budget(tmp_path):
    path = _saved(tmp_path, ".csv")
    _edit_header(path, _env("dev", budget=float("nan")))
    result = costwise("report", "--metrics-file", str(path), "--fail-on-budget", "--config", str(_no_settings(tmp_path)))
    assert_one_line(result, 2, str(path), "budget: expected a finite number")


@pytest.mark.parametrize("suffix, where", [(".csv", "line 51"), (".parquet", "row 49")])
def test_rows_of_an_environment_not_in_the_header_are_refused(tmp_path, suffix, where):
    # dev's 48 rows come first (CSV lines 3..50, Parquet rows 1..48): gone's first row is line 51 / row 49
    path = _saved(tmp_path, suffix)
    _edit_header(path, _env("gone", env="other"))  # "gone" renamed in the header, its rows left as they were
    assert f"{where}, column env: environment 'gone' is not in the header" in _refused(path)


# ---- values: numbers AWS can report; only an empty cell is a gap ---------------------------------

def _set_csv(path: Path, line: int, column: str, value: str) -> None:
    """`value` into `column` of file line `line` (line 1 is the header, 2 the column names)."""
    lines = path.read_text().split("\n")
    fields = lines[line - 1].split(",")
    fields[["env", "cache", "timestamp", "storage_avg_bytes", "storage_max_bytes", "ecpu_sum", "ecpu_max_minute",
            "throttled_sum"].index(column)] = value
    lines[line - 1] = ",".join(fields)
    path.write_text("\n".join(lines))


@pytest.mark.parametrize("text", ["NaN", "N/A", "nan", "NA", "null", "#N/A", "<NA>", "None"])
def test_only_an_empty_cell_is_a_missing_hour(tmp_path, text):
    path = _saved(tmp_path, ".csv")
    _set_csv(path, 4, "ecpu_sum", "")  # dev's second hour (line 3 is its first): a gap
    frame = load_history(path).environments[0].frame
    assert np.isnan(frame["ecpu_sum"].iloc[1]) and frame["ecpu_sum"].iloc[0] == 3.6e6
    # pandas reads all of these as a missing value by default; the README promises NaN is refused
    _set_csv(path, 4, "storage_avg_bytes", text)
    assert f"line 4, column storage_avg_bytes: {text!r} is not a number" in _refused(path)


# The bounds, derived by hand from AWS's largest limits (5,000 GB; 15,000,000 ECPU/s) with a margin of 2:
#   bytes stored:        2 x 5,000 x 2**30        = 10,737,418,240,000
#   ECPUs in an hour:    2 x 15,000,000 x 3,600   = 108,000,000,000
#   the busiest minute:  2 x 15,000,000 x 60      = 1,800,000,000
#   throttled commands:  as ECPUs in an hour (each would have cost at least one)
BOUNDS = {"storage_avg_bytes": 10_737_418_240_000, "storage_max_bytes": 10_737_418_240_000, "ecpu_sum": 108_000_000_000,
          "ecpu_max_minute": 1_800_000_000, "throttled_sum": 108_000_000_000}


@pytest.mark.parametrize("column", list(BOUNDS))
def test_values_beyond_what_aws_can_report_are_refused(tmp_path, column):
    path = _saved(tmp_path, ".csv")
    _set_csv(path, 5, column, str(BOUNDS[column]))  # at the bound: read
    assert load_history(path).environments[0].frame[column].iloc[2] == BOUNDS[column]
    _set_csv(path, 5, column, str(BOUNDS[column] + 1000))  # just past it: refused, naming the line and column
    assert f"line 5, column {column}: {BOUNDS[column] + 1000:g} is more than a serverless cache can report" in _refused(path)
    _set_csv(path, 5, column, "1e308")
    assert f"line 5, column {column}: 1e+308 is more than a serverless cache can report" in _refused(path)


def test_1e308_through_the_cli_is_one_line(tmp_path):
    path = _saved(tmp_path, ".csv")
    _set_csv(path, 6, "ecpu_sum", "1e308")  # once advice like "raise the limit from 5 GB to 5 GB"
    assert_one_line(costwise("estimate", "--metrics-file", str(path)), 2, str(path), "line 6, column ecpu_sum: 1e+308 is more than")


def _parquet_with(tmp_path: Path, column: str, row: int, value) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # a new file each time: a file this process has read is never written again (costwise/atomic.py)
    path = _saved(tmp_path, ".parquet", name=f"{column}-{row}-{value}")
    table = pq.read_table(path)
    values = table[column].to_pylist()
    values[row] = value
    position = table.schema.get_field_index(column)
    table = table.set_column(position, table.schema.field(column), pa.array(values, pa.float64(), from_pandas=False))
    pq.write_table(table, path)
    return path


def test_parquet_values_are_bounded_and_a_real_nan_is_refused(tmp_path):
    # a null is an empty cell (a gap); a NaN stored as a value is the text "NaN" of a CSV
    path = _parquet_with(tmp_path, "ecpu_sum", 2, None)
    assert np.isnan(load_history(path).environments[0].frame["ecpu_sum"].iloc[2])
    path = _parquet_with(tmp_path, "ecpu_sum", 2, float("nan"))
    assert "row 3, column ecpu_sum: NaN is not a number" in _refused(path)
    path = _parquet_with(tmp_path, "storage_max_bytes", 4, 1e308)
    assert "row 5, column storage_max_bytes: 1e+308 is more than a serverless cache can report" in _refused(path)


def test_a_dataset_folder_validates_each_file(tmp_path):
    history = _history(("a", "b"))
    history.environments[1].account = "other"  # two files: account=self/... and account=other/...
    written = save_dataset(history, tmp_path / "ds")
    _edit_header(written[-1], _env("a", budget=float("nan")))
    with pytest.raises(InputError) as caught:
        load_dataset(tmp_path / "ds")
    assert str(caught.value).startswith(f"{written[-1]}: header environments.a.budget: expected a finite number")


# ---- costwise's own large files read back; endless ones are refused fast ---------------------------

def test_a_header_past_1_mib_reads_back_as_csv_parquet_and_dataset(tmp_path):
    # 3,500 environments with 40-character names: each header entry is about 390 bytes, so the
    # header line is about 1.3 MB, past the 1 MiB the reader used to stop at
    window = Window(START, START.replace(hour=1))  # one hour: one row each
    names = [f"env-{i:05d}-{'x' * 30}" for i in range(3500)]
    history = _history(names, window)
    csv = _saved(tmp_path, ".csv", history)
    assert len(csv.read_bytes().split(b"\n", 1)[0]) > 1 << 20
    for path in (csv, _saved(tmp_path, ".parquet", history)):
        back = load_history(path)
        assert [e.env for e in back.environments] == names
        assert back.environments[-1].frame["ecpu_sum"].tolist() == [3.6e6]
    save_dataset(history, tmp_path / "ds")
    assert len(load_dataset(tmp_path / "ds").environments) == 3500
    # and a file that is one endless line is still refused after the header's cap (16 MiB), not read whole
    endless = tmp_path / "endless.csv"
    with open(endless, "wb") as handle:
        handle.truncate(100 << 20)  # sparse: no disk
    result = costwise("estimate", "--metrics-file", str(endless))
    assert_one_line(result, 2, str(endless), "header line is longer than 16 MiB")
    assert result.max_rss_mb < 250


# ---- memory: rows and bytes bounded before they are materialised ---------------------------------

def _parquet_bomb(path: Path, rows: int, hours_window: Window, environments: int) -> None:
    """One row group of `rows` identical rows (all 'e0', one timestamp) under a header of
    `environments` environments: zstd and dictionary encoding make it tens of KB on disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from costwise.usage import COLUMNS

    meta = {"format": "costwise-history/1", "rows": rows, "source": "cloudwatch",
            "window": {"start": hours_window.start.isoformat(), "end": hours_window.end.isoformat()},
            "environments": [{"env": f"e{i}", "cache": "c", "engine": "valkey", "region": "us-east-1"} for i in range(environments)]}
    name = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int8)), pa.array(["e0"]))
    stamp = pa.array(np.full(rows, np.datetime64(hours_window.start.replace(tzinfo=None), "ns")), pa.timestamp("ns", tz="UTC"))
    ones = pa.array(np.ones(rows))
    table = pa.table({"env": name, "cache": name, "timestamp": stamp, **{c: ones for c in COLUMNS}})
    table = table.replace_schema_metadata({b"costwise": json.dumps(meta)})
    pq.write_table(table, path, compression="zstd", row_group_size=rows)


def test_a_parquet_that_expands_to_millions_of_rows_is_refused_from_its_metadata(tmp_path):
    # 2,000,000 rows under a header of 48 hours x 1 environment (at most 48 rows): before this fix
    # they were all materialised (~630 MB peak) before the duplicate hour was found
    path = tmp_path / "bomb.parquet"
    _parquet_bomb(path, 2_000_000, WINDOW, 1)
    assert path.stat().st_size < 1 << 20
    result = costwise("estimate", "--metrics-file", str(path))
    assert_one_line(result, 2, str(path), "2,000,000 rows is more than its header's 48 hours x 1 environments allow")
    assert result.max_rss_mb < 250, result.max_rss_mb


def test_a_row_group_the_header_allows_is_still_read_in_bounded_batches(tmp_path):
    # a two-year window x 120 environments allows 17,544 x 120 = 2,105,280 rows: the 2,000,000 pass
    # the count, and are read 262,144 at a time; the first batch already shows e0's hour twice
    path = tmp_path / "bomb.parquet"
    two_years = Window(START, START.replace(year=START.year + 2))
    assert two_years.hours * 120 > 2_000_000
    _parquet_bomb(path, 2_000_000, two_years, 120)
    result = costwise("estimate", "--metrics-file", str(path))
    assert_one_line(result, 2, str(path), "row 2: environment 'e0' has 2026-11-18T00:00:00Z twice")
    assert result.max_rss_mb < 400, result.max_rss_mb


def test_a_row_group_that_expands_past_its_rows_is_refused_unread(tmp_path):
    # 10 rows whose name is 80 MiB of one letter: 3 KB on disk, 80 MiB uncompressed, more than
    # 10 rows x 256 bytes + the 64 MiB allowed for a row group's names
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _saved(tmp_path, ".parquet")
    meta = pq.read_schema(path).metadata
    table = pq.read_table(path).slice(0, 10)
    table = table.set_column(0, "env", pa.array(["x" * (80 << 20)] * 10))
    pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")
    assert path.stat().st_size < 1 << 20
    result = costwise("estimate", "--metrics-file", str(path))
    assert_one_line(result, 2, str(path), "row group 1 expands to 80 MiB for 10 rows")
    assert result.max_rss_mb < 250, result.max_rss_mb


def test_a_header_listing_more_environments_than_costwise_reads_is_refused(tmp_path):
    # 50,001 environments of ~40 bytes each in a 2 MB header: past the 50,000 one file may list
    path = tmp_path / "many.csv"
    meta = {"format": "costwise-history/1", "rows": 0, "window": {"start": "2026-11-18T00:00:00Z", "end": "2026-11-18T01:00:00Z"},
            "environments": [{"env": f"e{i}", "cache": "c"} for i in range(50_001)]}
    path.write_text(f"# {json.dumps(meta)}\nenv,cache,timestamp,storage_avg_bytes,storage_max_bytes,ecpu_sum,ecpu_max_minute,throttled_sum\n")
    assert "header environments: 50,001 is more than costwise reads from one file (50,000)" in _refused(path)
