"""Write output files so that nothing is destroyed and a reader never sees half of one.

- A regular file (or a new one) is written to a temporary file in the same folder, then renamed
  over it in one step: a failure (a full disk, SIGINT, SIGTERM) leaves the old file intact and
  no temporary file behind. An existing file keeps its mode, and its owner and group (root
  rewriting another user's file must not take it over); a new one gets the mode the umask gives,
  as any program's would. The temporary name is short (`.cw-XXXXXXXX.tmp`), so that a target
  whose name is as long as the filesystem allows can still be written.
- A symlink is written through: its target is replaced (atomically, in the target's folder), and
  the link stays a link.
- A device, a FIFO or a socket (`/dev/stdout`, `/dev/null`, a pipe) is written directly: renaming
  a file over it would destroy it.
- `-` is standard output.
- A file the command read (its config, pricing, history or infrastructure code, under any name:
  a symlink, a hard link, another spelling) is never an output: writing a report over its own
  history would destroy the history. Inputs are noted as they are opened (`note_input`) and
  compared by device and inode.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from costwise.errors import InputError

STDOUT = "-"
TEMP_PREFIX, TEMP_SUFFIX = ".cw-", ".tmp"  # 16 characters in all, whatever the target's name


_INPUTS: dict[tuple[int, int], str] = {}  # (st_dev, st_ino) of each file this command read -> as named


def note_input(path: str | Path, info: os.stat_result | None = None) -> None:
    """Note a regular file the command reads: no output of it may replace that file."""
    try:
        info = info or os.stat(path)
    except OSError:
        return
    if stat.S_ISREG(info.st_mode):
        _INPUTS[(info.st_dev, info.st_ino)] = str(path)


def release_input(path: str | Path) -> None:
    """The command means to rewrite this input (`pricing update --write` refreshes its own file)."""
    try:
        info = os.stat(path)
    except OSError:
        return
    _INPUTS.pop((info.st_dev, info.st_ino), None)


def forget_inputs() -> None:
    """A new command starts (the console entry point, once per run; tests run several in one process)."""
    _INPUTS.clear()


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _keep_owner(tmp: Path, old: os.stat_result) -> None:
    """Give the new file the old one's owner and group. Only root can give a file away: anyone
    else writes a file that is theirs (as any editor would), keeping the group when they are in it."""
    mine = tmp.stat()
    if (mine.st_uid, mine.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        if os.geteuid() == 0:
            os.chown(tmp, old.st_uid, old.st_gid)
        elif mine.st_gid != old.st_gid:
            os.chown(tmp, -1, old.st_gid)
    except OSError:  # not in that group, or a filesystem without owners (FAT) or one that squashes root (NFS)
        pass


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes `target` as described above."""
    shown = str(target)
    if shown == STDOUT:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
        os.close(fd)
        try:
            yield Path(tmp)
            with open(tmp, "rb") as source:
                sys.stdout.flush()
                shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.buffer.flush()
        finally:
            Path(tmp).unlink(missing_ok=True)
        return

    path = Path(os.path.realpath(target))  # through symlinks, to what they point at
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"{shown}: cannot write ({_reason(exc)})") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown}: is a folder; give a file name")
    if info is not None and (info.st_dev, info.st_ino) in _INPUTS:
        same = _INPUTS[(info.st_dev, info.st_ino)]
        raise InputError(f"{shown}: is also an input of this command ({same}); write the output to another file"
                         if same != shown else f"{shown}: is also an input of this command; write the output to another file")
    direct = info is not None and not stat.S_ISREG(info.st_mode)  # a device, FIFO or socket
    folder = path.parent
    if not direct and not folder.is_dir():
        raise InputError(f"{shown}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=None if direct else folder)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write in {folder} ({_reason(exc)})") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if direct:
            with open(tmp_path, "rb") as source, open(path, "wb") as sink:
                shutil.copyfileobj(source, sink)
        else:
            if info is not None:
                _keep_owner(tmp_path, info)
            os.chmod(tmp_path, stat.S_IMODE(info.st_mode) if info is not None else _umask_mode())  # after chown, which clears set-id bits
            os.replace(tmp_path, path)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write ({_reason(exc)}); nothing was changed") from None
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
