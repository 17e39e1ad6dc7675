"""Write output files so that nothing is destroyed and a reader never sees half of one.

- A regular file (or a new one) is written to a temporary file in the same folder, then renamed
  over it in one step: a failure (a full disk, SIGINT) leaves the old file intact. An existing
  file keeps its mode; a new one gets the mode the umask gives, as any program's would.
- A symlink is written through: its target is replaced (atomically, in the target's folder), and
  the link stays a link.
- A device, a FIFO or a socket (`/dev/stdout`, `/dev/null`, a pipe) is written directly: renaming
  a file over it would destroy it.
- `-` is standard output.
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


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes `target` as described above."""
    shown = str(target)
    if shown == STDOUT:
        fd, tmp = tempfile.mkstemp(prefix="costwise.", suffix=".tmp")
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
    direct = info is not None and not stat.S_ISREG(info.st_mode)  # a device, FIFO or socket
    folder = path.parent
    if not direct and not folder.is_dir():
        raise InputError(f"{shown}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=None if direct else folder)
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
            os.chmod(tmp_path, stat.S_IMODE(info.st_mode) if info is not None else _umask_mode())
            os.replace(tmp_path, path)
    except OSError as exc:
        raise InputError(f"{shown}: cannot write ({_reason(exc)}); nothing was changed") from None
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
