"""What AWS billed, read from a CUR 2.0 / Data Exports Parquet export or from Cost Explorer.

The export is read one row group at a time, only the columns reconcile needs, and only the
ElastiCache lines of the period are kept (summed into a `BillLedger` as they come): memory follows
a row group, not the export. An S3 export is copied one object at a time into a temporary file
(sources/aws.py), read, and deleted.

Files that are not CUR at all (no `line_item_` column) are skipped and said so; a CUR file without
a column reconcile needs is bad input, named.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Iterator

from costwise.errors import CostwiseError, InputError
from costwise.fmt import printable, shorten
from costwise.limits import MAX_DOLLARS, MAX_ECPU_PER_HOUR
from costwise.model.reconcile import COVERED, USAGE, BillLedger, Period, month_period

PRODUCT_CODE = "AmazonElastiCache"
REQUIRED = ("line_item_line_item_type", "line_item_product_code", "line_item_usage_type", "line_item_resource_id",
            "line_item_usage_amount", "line_item_unblended_cost", "line_item_usage_start_date")
# present only in some exports (net columns when the account has discounts; plan columns with a plan)
OPTIONAL = ("line_item_usage_end_date", "line_item_net_unblended_cost", "line_item_currency_code", "product_region_code",
            "savings_plan_savings_plan_effective_cost", "savings_plan_net_savings_plan_effective_cost")
# the text columns among them, read as dictionaries
TEXT_COLUMNS = ("line_item_line_item_type", "line_item_product_code", "line_item_usage_type", "line_item_resource_id",
                "line_item_currency_code", "product_region_code")
BATCH_ROWS = 65_536
# A CUR's text values (an ARN is at most 2,048 characters; ElastiCache's are about 80): a value
# longer than this is refused before it is decoded row by row, so a dictionary of one 5 MB
# "resource id" over 200,000 rows (a 250 KB file) cannot expand to a terabyte.
MAX_TEXT_CHARS = 2_048
# What the columns reconcile reads take uncompressed, a row (numbers, timestamps, a few strings),
# with room to spare; plus the dictionaries' pages per row group.
MAX_CUR_BYTES_PER_ROW = 4_096
MAX_CUR_DICTIONARY_BYTES = 64 << 20
MAX_OBJECTS = 100_000  # objects listed under an S3 prefix: years of an export's parts, refreshed daily
MAX_OBJECT_BYTES = 1 << 30  # one S3 part copied to the temporary folder (a history Parquet file's bound)
_PERIOD_FOLDER = re.compile(r"BILLING_PERIOD=(\d{4})-(\d{2})")


def _outside_period(name: str, period: Period) -> bool:
    """A Data Exports partition folder (BILLING_PERIOD=2026-09) for a month the period does not touch."""
    found = _PERIOD_FOLDER.search(name)
    if not found:
        return False
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        return False
    partition = month_period(year, month)
    return partition.end <= period.start or partition.start >= period.end


def _is_parquet(name: str) -> bool:
    return name.lower().endswith(".parquet")


def read_cur(location: str, period: Period, session_factory=None) -> BillLedger:
    """The ElastiCache lines of `period` from a local folder (or file) or s3://bucket/prefix/."""
    from costwise.sources.history_file import require_parquet

    if not location.strip():  # `--cur "$UNSET"`: Path("") would be the working folder
        raise InputError("--cur: an empty path: a CUR 2.0 export folder or s3://bucket/prefix/ not found")
    require_parquet(Path(location))
    ledger = BillLedger()
    reader = _CurReader(location, period, ledger)
    if location.startswith("s3://"):
        reader.read_s3(session_factory)
    else:
        reader.read_local(Path(location))
    reader.finish()
    return ledger


class _CurReader:
    def __init__(self, location: str, period: Period, ledger: BillLedger):
        self.location = location
        self.period = period
        self.ledger = ledger
        self.files = 0
        self.skipped: list[str] = []
        self.outside = 0
        self.rows = 0

    def read_local(self, root: Path) -> None:
        import stat

        from costwise.atomic import note_input
        from costwise.yamlfile import user_path

        # checked with stat before anything opens it (a FIFO, a device; "" is not the working folder);
        # every file read is noted as an input no output may replace (costwise.atomic)
        info = user_path(root, "--cur, a CUR 2.0 export folder or Parquet file,", folder_ok=True)
        if stat.S_ISDIR(info.st_mode):
            # symbolic links to folders are not followed (rglob); a FIFO or device named .parquet is skipped
            paths = sorted(p for p in root.rglob("*") if _is_parquet(p.name) and p.is_file())
        else:
            paths = [root]
        paths = [p for p in paths if not _outside_period(str(p), self.period)]
        for path in paths:
            note_input(path)
        for path in paths:
            self.read_file(path, str(path))

    def read_s3(self, session_factory) -> None:
        import tempfile

        from costwise.sources import aws

        bucket, _, prefix = self.location[len("s3://"):].partition("/")
        if not bucket:
            raise InputError(f"--cur: {printable(self.location)} names no bucket (s3://bucket/prefix/)")
        session = session_factory()
        client = session.client("s3", "us-east-1")
        # bounded before anything is copied: the keys listed (a listing can go on without end) and
        # each part's size (a part is copied whole to the temporary folder before a row is counted)
        keys: list[str] = []
        listed = 0
        try:
            for key, size in aws.list_objects(client, bucket, prefix):
                listed += 1
                if listed > MAX_OBJECTS:
                    raise InputError(f"--cur: {printable(self.location)}: more than {MAX_OBJECTS:,} objects under the prefix; "
                                     "give the export's folder or the month's partition (BILLING_PERIOD=YYYY-MM)")
                if not _is_parquet(key) or _outside_period(key, self.period):
                    continue
                if size > MAX_OBJECT_BYTES:
                    raise InputError(f"--cur: {printable(f's3://{bucket}/{key}')}: {size:,} bytes is more than costwise copies "
                                     f"of one export file ({MAX_OBJECT_BYTES:,}, 1 GiB)")
                keys.append(key)
        except CostwiseError:
            raise
        except Exception as exc:
            raise aws.describe_error(exc, f"ListObjectsV2 s3://{bucket}/{prefix}") from None
        with tempfile.TemporaryDirectory(prefix="costwise-cur-") as folder:
            for key in keys:
                local = Path(folder) / "object.parquet"  # never a name from the key
                try:
                    with open(local, "wb") as target:
                        aws.download_object(session, client, bucket, key, target, MAX_OBJECT_BYTES)
                except Exception as exc:
                    raise aws.describe_error(exc, f"GetObject s3://{bucket}/{key}") from None
                self.read_file(local, f"s3://{bucket}/{key}")
                local.unlink()

    def read_file(self, path: Path, shown: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        shown = printable(shown)
        try:
            parquet = pq.ParquetFile(path)
            # text columns kept as dictionaries: their values are checked once, not once a row
            text = [name for name in TEXT_COLUMNS if name in set(parquet.schema_arrow.names)]
            parquet = pq.ParquetFile(path, read_dictionary=text)
        except (pa.ArrowException, OSError) as exc:
            self.skipped.append(f"{shown} (not Parquet: {printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)[:80]})")
            return
        names = set(parquet.schema_arrow.names)
        if not any(name.startswith("line_item_") for name in names):
            self.skipped.append(f"{shown} (not a CUR 2.0 file)")
            return
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise InputError(f"--cur: {shown}: no column {missing[0]} (a CUR 2.0 / Data Exports file with resource ids is needed)")
        columns = list(REQUIRED) + [c for c in OPTIONAL if c in names]
        # bounded from the metadata before a row is read, as history files are: a 1 MB file of tens of
        # millions of identical lines would take minutes
        from costwise.sources.history_file import MAX_ROWS, oversized_row_group  # as history files are bounded

        rows = parquet.metadata.num_rows
        if self.rows + rows > MAX_ROWS:
            raise InputError(f"--cur: {shown}: {self.rows + rows:,} rows is more than costwise reads from an export "
                             f"({MAX_ROWS:,}); give the month's partition (BILLING_PERIOD=YYYY-MM) or an export of ElastiCache")
        oversized = oversized_row_group(parquet.metadata, MAX_CUR_BYTES_PER_ROW, MAX_CUR_DICTIONARY_BYTES, set(columns))
        if oversized:
            raise InputError(f"--cur: {shown}: {oversized} in the columns reconcile reads; not a CUR 2.0 file")
        self.files += 1
        try:
            first_row = 0
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                self.rows += batch.num_rows
                self._add_batch(batch, shown, first_row)
                first_row += batch.num_rows
        except pa.ArrowException as exc:
            raise InputError(f"--cur: {shown}: cannot be read ({printable(str(exc).splitlines()[0])[:120]})") from None

    def _add_batch(self, batch, shown: str, first_row: int) -> None:
        import numpy as np
        import pandas as pd
        import pyarrow as pa
        import pyarrow.compute as pc

        # every text value checked on its dictionary (a few values), then decoded: bounded
        for name in batch.schema.names:
            column = batch.column(name)
            if not pa.types.is_dictionary(column.type):
                continue
            values = column.type.value_type
            if (pa.types.is_string(values) or pa.types.is_large_string(values)) and len(column.dictionary):
                longest = pc.max(pc.utf8_length(column.dictionary)).as_py() or 0
                if longest > MAX_TEXT_CHARS:
                    raise InputError(f"--cur: {shown}: {name}: a value {longest:,} characters long (a CUR's are at most {MAX_TEXT_CHARS:,})")
            # decoded to its own value type (a dictionary of numbers or times stays numbers or times)
            batch = batch.set_column(batch.schema.get_field_index(name), name, column.cast(values))
        product = batch.column("line_item_product_code")
        mask = pc.fill_null(pc.equal(product.cast("string"), PRODUCT_CODE), False)
        if not pc.any(mask).as_py():
            return
        rows = np.flatnonzero(mask.to_numpy(zero_copy_only=False)) + first_row + 1  # the file's row of each line kept
        kept = batch.filter(mask)
        frame = kept.to_pandas()
        try:
            start = pd.to_datetime(frame["line_item_usage_start_date"], utc=True)
            end = (pd.to_datetime(frame["line_item_usage_end_date"], utc=True) if "line_item_usage_end_date" in frame
                   else pd.Series(pd.NaT, index=frame.index))
        except (ValueError, TypeError):
            raise InputError("--cur: line_item_usage_start_date: not a time") from None
        inside = ((start >= self.period.start) & (start < self.period.end)).to_numpy()
        self.outside += int((~inside).sum())
        frame, start, end, rows = frame[inside], start[inside], end[inside], rows[inside]
        types = frame["line_item_line_item_type"].astype(str).to_numpy()
        usage = np.isin(types, (USAGE, COVERED))
        # a line's amount is at most what one cache can use in the period (ECPUs, the larger unit: 2 x AWS's
        # largest limit, costwise/limits.py), its cost at most MAX_DOLLARS; a null is "none" (0), never a NaN
        most_used = MAX_ECPU_PER_HOUR * max(self.period.hours, 1)

        def numbers(name: str, bound: float, what: str):
            if name not in frame:
                return None
            given = kept.column(name).is_valid().to_numpy(zero_copy_only=False)[inside]
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                bad = given & ~(np.abs(values) <= bound)
                if name == "line_item_usage_amount":
                    bad |= given & usage & (values < 0)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"--cur: {shown}: row {rows[i]:,}, {name}: {shorten(frame[name].iloc[i])} is not {what}")
            return np.where(given, values, 0.0)

        amount = numbers("line_item_usage_amount", most_used, f"a usage amount (a number, 0 to {most_used:,.0f})")
        money_text = f"a cost (a number of dollars, at most {MAX_DOLLARS:,.0f} either way)"
        unblended = numbers("line_item_unblended_cost", MAX_DOLLARS, money_text)
        net = numbers("line_item_net_unblended_cost", MAX_DOLLARS, money_text)
        effective = numbers("savings_plan_savings_plan_effective_cost", MAX_DOLLARS, money_text)
        net_effective = numbers("savings_plan_net_savings_plan_effective_cost", MAX_DOLLARS, money_text)
        currency = frame["line_item_currency_code"].to_numpy() if "line_item_currency_code" in frame else None
        regions = frame["product_region_code"].fillna("").astype(str).to_numpy() if "product_region_code" in frame else None
        usage_types = frame["line_item_usage_type"].fillna("").astype(str).to_numpy()
        resources = frame["line_item_resource_id"].fillna("").astype(str).to_numpy()
        starts = list(start)  # Timestamps: datetimes
        ends = list(end)
        for i in range(len(frame)):
            plan = net_effective[i] if net_effective is not None else (effective[i] if effective is not None else None)
            self.ledger.add(line_type=types[i], usage_type=usage_types[i], resource_id=resources[i] or None,
                            amount=float(amount[i]), unblended=float(unblended[i]),
                            net=float(net[i]) if net is not None else None, plan_effective=None if plan is None else float(plan),
                            start=starts[i], end=None if pd.isna(ends[i]) else ends[i],
                            region=regions[i] or None if regions is not None else None,
                            currency=str(currency[i]) if currency is not None and currency[i] else None)

    def finish(self) -> None:
        ledger = self.ledger
        where = printable(self.location)
        if self.files == 0:
            why = f"; skipped: {', '.join(self.skipped[:3])}" if self.skipped else ""
            raise InputError(f"--cur: no CUR 2.0 Parquet file for the period under {where}{why}")
        if len(ledger.currencies) > 1:
            raise InputError(f"--cur: {where}: the bill is in several currencies ({', '.join(sorted(ledger.currencies))}); "
                             "reconcile one currency at a time")
        if ledger.currencies and ledger.currencies != {"USD"}:
            raise InputError(f"--cur: {where}: the bill is in {next(iter(ledger.currencies))}; pricing.yaml is in USD")
        if ledger.lines == 0:
            raise CostwiseError(f"--cur: {where}: no ElastiCache line items from {self.period.start:%Y-%m-%d} to "
                                f"{self.period.end:%Y-%m-%d} in {self.rows:,} rows of {self.files} files")
        if ledger.by_region and not ledger.by_resource:
            ledger.per_resource = False
            ledger.notes.append("the export has no resource ids (include them in the Data Export): compared per region and engine")
        elif ledger.by_region:
            loose = sum(b.unblended_cost for b in ledger.by_region.values())
            ledger.notes.append(f"serverless usage without a resource id: ${loose:,.2f}, not tied to a cache")
        if self.skipped:
            ledger.notes.append(f"skipped {len(self.skipped)} files that are not CUR 2.0: {', '.join(self.skipped[:3])}")
        if self.outside:
            ledger.notes.append(f"{self.outside:,} ElastiCache line items outside the period left out")


# ---- Cost Explorer -------------------------------------------------------------------------------

CE_SERVICE = "Amazon ElastiCache"
RESOURCE_DAYS = 14  # Cost Explorer keeps resource-level data for the last 14 days


def read_cost_explorer(session, period: Period, now: datetime) -> BillLedger:
    """GetCostAndUsage for ElastiCache over the period, grouped by usage type (and region); by
    resource (GetCostAndUsageWithResources) when the period lies within the last 14 days and
    resource-level data is enabled. Otherwise per region and engine, and said so."""
    from costwise.sources import aws

    client = session.client("ce", "us-east-1")  # a global API, served from us-east-1
    ledger = BillLedger()
    base = {
        "TimePeriod": {"Start": f"{period.start:%Y-%m-%d}", "End": f"{period.end:%Y-%m-%d}"},
        "Granularity": "MONTHLY" if period.hours > 24 * 31 or period.start.day == 1 else "DAILY",
        "Metrics": ["UnblendedCost", "NetUnblendedCost", "UsageQuantity"],
        "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [CE_SERVICE]}},
    }
    if (now - period.start).days <= RESOURCE_DAYS:
        request = {**base, "GroupBy": [{"Type": "DIMENSION", "Key": "RESOURCE_ID"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}
        try:
            results = aws.get_cost_and_usage(client, request, with_resources=True)
        except Exception as exc:  # not enabled, or not allowed: fall back to the region's total
            ledger.notes.append(f"Cost Explorer resource-level data not read ({aws.describe_error(exc, 'GetCostAndUsageWithResources')})")
        else:
            for resource, usage_type, metrics, start in _groups(results):
                _add_ce(ledger, resource, usage_type, metrics, start, None)
            if ledger.by_resource:
                return ledger
    request = {**base, "GroupBy": [{"Type": "DIMENSION", "Key": "REGION"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}
    try:
        results = aws.get_cost_and_usage(client, request)
    except CostwiseError:
        raise
    except Exception as exc:
        raise aws.describe_error(exc, "GetCostAndUsage") from None
    ledger.per_resource = False
    ledger.notes.append("Cost Explorer has no resource-level data for this period: compared per region and engine "
                        "(Savings Plans and credits net out inside each usage type; --cur shows them line by line)")
    for region, usage_type, metrics, start in _groups(results):
        _add_ce(ledger, None, usage_type, metrics, start, region)
    if len(ledger.currencies) > 1:
        raise InputError(f"Cost Explorer: the bill is in several currencies ({', '.join(sorted(ledger.currencies))})")
    if ledger.lines == 0:
        raise CostwiseError(f"Cost Explorer: no ElastiCache usage from {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}")
    return ledger


def _groups(results: list[dict]) -> Iterator[tuple[str, str, dict, datetime | None]]:
    from costwise.fmt import parse_iso_utc

    for by_time in results:
        try:
            start = parse_iso_utc(by_time.get("TimePeriod", {}).get("Start", ""))
        except ValueError:
            start = None
        for group in by_time.get("Groups", []):
            keys = group.get("Keys", [])
            if len(keys) == 2:
                yield str(keys[0]), str(keys[1]), group.get("Metrics", {}), start


# a Cost Explorer group's usage: GB-hours or ECPUs of every cache of a region and usage type over
# the period (a year of 1,000 caches at the largest limits is about 1e18 ECPUs)
MAX_USAGE_QUANTITY = 1e18


def _add_ce(ledger: BillLedger, resource: str | None, usage_type: str, metrics: dict, start, region: str | None) -> None:
    def amount(name: str) -> tuple[float, str | None]:
        metric = metrics.get(name) or {}
        try:
            value = float(metric.get("Amount", 0.0))
        except (TypeError, ValueError):
            raise CostwiseError(f"Cost Explorer: {name} {printable(str(metric.get('Amount')))[:40]} is not a number") from None
        # float() takes "NaN", "Infinity" and "1e308": a reply like that must not become a bill
        bound = MAX_USAGE_QUANTITY if name == "UsageQuantity" else MAX_DOLLARS
        low = 0.0 if name == "UsageQuantity" else -bound
        if not low <= value <= bound:
            raise CostwiseError(f"Cost Explorer: {name} {printable(str(metric.get('Amount')))[:40]} is not a "
                                f"{'usage quantity' if name == 'UsageQuantity' else 'cost'} from {low:,.0f} to {bound:,.0f}")
        return value, metric.get("Unit")

    unblended, currency = amount("UnblendedCost")
    net, _ = amount("NetUnblendedCost")
    quantity, _ = amount("UsageQuantity")
    ledger.add(line_type="Usage", usage_type=usage_type, resource_id=resource, amount=quantity, unblended=unblended,
               net=net if "NetUnblendedCost" in metrics else None, start=start, region=region, currency=currency)
