"""Recommendations as code: the limits in infrastructure code, read without running it, and patched.

Readers find each limit's exact place (file, line, character span) in three shapes:
- `cdk`: a Python dict of environments (`{"prod": {"redis_max_storage_gb": 5, ...}}`), parsed with
  `ast` and never executed; the key names are settings (costwise.yaml `iac.cdk_keys`);
- `terraform`: `aws_elasticache_serverless_cache` resources (`cache_usage_limits { data_storage {
  maximum = 5 } ecpu_per_second { maximum = 10000 } }`), parsed with python-hcl2;
- `cloudformation`: `AWS::ElastiCache::ServerlessCache` resources in JSON or YAML (`!Ref`-style
  tags read, not resolved), `CacheUsageLimits.DataStorage.Maximum` and `ECPUPerSecond.Maximum`.

A patch replaces only those numbers' bytes, so formatting and comments stay as they were. Positions
are bytes as git sees them (costwise.iac.source); a limit whose bytes do not spell the number read,
or that is not a literal of its own (shared through a YAML alias, computed, a reference), is named
with why and never edited.

A folder is read whole: every candidate file is opened (never a FIFO, device or socket: those are
skipped before opening), and one that does not mention a serverless cache is counted as unrelated
without being parsed, whatever its size or encoding. A file that mentions one but cannot be read
(too large, not UTF-8, not parseable, nested too deeply) is listed as not read, so `suggest` never
claims "no changes" over code it did not read.
"""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from costwise.atomic import note_input
from costwise.errors import InputError
from costwise.iac.source import Source, literal_number

MAX_IAC_BYTES = 2 << 20  # 2 MiB: a stack file, not a data dump
MAX_SCAN_BYTES = 64 << 20  # a larger candidate is searched this far for a serverless cache, then given up on
FIELDS = ("max_storage_gb", "max_ecpu_per_second")
DEFAULT_CDK_KEYS = {"max_storage_gb": "redis_max_storage_gb", "max_ecpu_per_second": "redis_max_ecpu"}
SUFFIXES = (".py", ".tf", ".json", ".yaml", ".yml", ".template")
SKIPPED_FOLDERS = ("node_modules", "cdk.out", ".terraform")
CLOUDFORMATION_TYPE = "AWS::ElastiCache::ServerlessCache"
TERRAFORM_TYPE = "aws_elasticache_serverless_cache"


@dataclass(frozen=True)
class LimitSite:
    """One limit number in one file: where it is and what it says."""

    path: Path
    shape: str  # cdk | terraform | cloudformation
    match: str  # the environment name (cdk) or the cache name (terraform, cloudformation)
    by: str  # "env" or "cache": how `match` is matched
    field: str  # max_storage_gb | max_ecpu_per_second
    value: float
    line: int  # 1-based, as git counts lines
    start: int  # byte offsets of the number in the file (Source.raw)
    end: int
    resource: str = ""  # the Terraform resource or CloudFormation logical id


@dataclass
class IacFile:
    path: Path
    shape: str
    source: Source
    sites: list[LimitSite] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # limits found but not patchable, and why


@dataclass
class IacScan:
    """What `read_iac` found, and what it read to find it."""

    files: list[IacFile] = field(default_factory=list)  # the files holding limits (or limits it cannot patch)
    read: int = 0  # candidate files read to the end
    not_read: list[str] = field(default_factory=list)  # "path: why": files that may hold limits, not read
    skipped: list[str] = field(default_factory=list)  # "path: why": links, FIFOs, devices (git holds none of them as code)


def shape_of(path: Path, text: str) -> str | None:
    suffix = path.suffix.lower()
    if suffix == ".tf":
        return "terraform"
    if suffix == ".py":
        return "cdk"
    if suffix in (".json", ".yaml", ".yml", ".template") and CLOUDFORMATION_TYPE in text:
        return "cloudformation"
    return None


def _markers(path: Path, cdk_keys: dict[str, str]) -> tuple[bytes, ...]:
    """Bytes a file of this kind holds if it can hold a limit costwise reads."""
    suffix = path.suffix.lower()
    if suffix == ".tf":
        return (TERRAFORM_TYPE.encode(),)
    if suffix == ".py":
        return tuple(key.encode() for key in cdk_keys.values())
    return (CLOUDFORMATION_TYPE.encode(),)


def _special_kind(mode: int) -> str | None:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return None


def _mentions(handle, head: bytes, markers: tuple[bytes, ...]) -> bool | None:
    """Whether the file (read so far: `head`) holds a marker; None when it is too large to search."""
    keep = max(len(m) for m in markers) - 1
    window, searched = head, len(head)
    while not any(m in window for m in markers):
        chunk = handle.read(1 << 20)
        if not chunk:
            return False
        searched += len(chunk)
        if searched > MAX_SCAN_BYTES:
            return None
        window = window[-keep:] + chunk
    return True


def _read(path: Path, cdk_keys: dict[str, str], in_folder: bool) -> IacFile | None:
    """One candidate file, parsed; None when it holds no limit (in a folder: without parsing it).
    Every reason it cannot be read is an InputError naming the file."""
    from costwise.iac import cdk, cloudformation, terraform

    # O_NONBLOCK: a FIFO that appeared since it was looked at cannot block the open
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (getattr(os, "O_NOFOLLOW", 0) if in_folder else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{path}: cannot read infrastructure file ({exc.strerror or type(exc).__name__})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _special_kind(info.st_mode)
            raise InputError(f"{path}: {kind or 'not a regular file'}, not an infrastructure file")
        note_input(path, info)  # no output of this command (--output) may replace it
        raw = handle.read(MAX_IAC_BYTES + 1)
        if in_folder:
            mentions = _mentions(handle, raw, _markers(path, cdk_keys))
            if mentions is False:
                return None  # unrelated (a package-lock.json, a script): counted, never parsed
            if mentions is None:
                raise InputError(f"{path}: larger than {MAX_SCAN_BYTES >> 20} MiB; not searched for limits")
    if len(raw) > MAX_IAC_BYTES:
        raise InputError(f"{path}: larger than {MAX_IAC_BYTES // 1024:,} KiB; not an infrastructure file costwise reads")
    try:
        source = Source(raw)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    shape = shape_of(path, source.text)
    if shape is None:
        return None
    reader = {"cdk": lambda p, s: cdk.read(p, s, cdk_keys),
              "terraform": terraform.read, "cloudformation": cloudformation.read}[shape]
    try:
        found = reader(path, source)
    except (RecursionError, MemoryError):  # a parser's stack or memory, at any depth: this file, said so
        raise InputError(f"{path}: nested too deeply or too large for costwise to read as {shape} "
                         "(a parser's recursion or memory limit)") from None
    return _checked(found)


def _checked(found: IacFile) -> IacFile:
    """Each limit's bytes must spell the number its parser read; a limit that is not a finite number
    is bad input. A limit whose bytes do not match is named, never patched."""
    kept = []
    for site in found.sites:
        where = f"{site.resource or site.match}: {site.field}"
        spelled = found.source.raw[site.start:site.end].decode("utf-8", "replace")
        if not math.isfinite(site.value):
            raise InputError(f"{found.path}: line {site.line}: {where} is {spelled.strip()[:40]!r}: not a finite number")
        if literal_number(spelled) != site.value:
            found.unmatched.append(f"{where} (line {site.line}): its place in the file could not be found exactly; not patched")
            continue
        kept.append(site)
    found.sites = kept
    return found


def read_iac(path: str | Path, cdk_keys: dict[str, str] | None = None) -> IacScan:
    """Every IaC file at `path`: a file (anything wrong with it is bad input), or a folder searched
    for .py, .tf, .json, .yaml, .yml and .template files (what cannot be read is listed, not fatal)."""
    keys = cdk_keys or DEFAULT_CDK_KEYS
    root = Path(path)
    try:
        mode = os.stat(root).st_mode  # follows a link: the path given is what the user means
    except FileNotFoundError:
        raise InputError(f"{root}: not found") from None
    except OSError as exc:
        raise InputError(f"{root}: cannot read ({exc.strerror or type(exc).__name__})") from None
    scan = IacScan()
    if not stat.S_ISDIR(mode):
        if not stat.S_ISREG(mode):  # refused before opening: a FIFO would block, a device never end
            raise InputError(f"{root}: is {_special_kind(mode) or 'something else'}, not a regular file; --iac takes a file or a folder")
        found = _read(root, keys, in_folder=False)
        scan.read = 1
        if found is not None and (found.sites or found.unmatched):
            scan.files.append(found)
        return scan
    for folder, subfolders, names in os.walk(root, onerror=lambda exc: scan.not_read.append(
            f"{exc.filename}: cannot list folder ({exc.strerror or type(exc).__name__})")):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in SKIPPED_FOLDERS)
        for linked in [d for d in subfolders if os.path.islink(os.path.join(folder, d))]:  # os.walk would not enter it
            scan.skipped.append(f"{Path(folder) / linked}: a symbolic link to a folder, not followed")
            subfolders.remove(linked)
        for name in sorted(names):
            candidate = Path(folder) / name
            if name.startswith(".") or candidate.suffix.lower() not in SUFFIXES:
                continue
            try:
                kind = _special_kind(os.lstat(candidate).st_mode)
            except OSError as exc:
                scan.not_read.append(f"{candidate}: cannot read ({exc.strerror or type(exc).__name__})")
                continue
            if kind is not None:  # git keeps none of these as a file a patch could change
                scan.skipped.append(f"{candidate}: {kind}, never opened")
                continue
            try:
                found = _read(candidate, keys, in_folder=True)
            except InputError as exc:
                scan.not_read.append(str(exc))
                continue
            scan.read += 1
            if found is not None and (found.sites or found.unmatched):
                scan.files.append(found)
    return scan
