"""The console entry point (`costwise`, `python -m costwise`): every error becomes one line and an exit code.

0 fine; 1 an environment, account or region could not be read (the others are still reported);
2 bad input; 3 over budget with --fail-on-budget; 130 interrupted; 143 terminated (SIGTERM, what a
CI runner sends on cancel); 1 with "internal error" for a bug.
"""

from __future__ import annotations

import os
import signal
import sys

import typer

from costwise.atomic import forget_inputs
from costwise.cli import _say, app
from costwise.errors import CostwiseError

INTERRUPTED = 130
TERMINATED = 128 + signal.SIGTERM
_terminated = False


def _on_sigterm(signum, frame) -> None:
    """SIGTERM ends the run as Ctrl-C does, by an exception where the program is: every cleanup
    runs (temporary files removed, worker processes stopped), then exit 143."""
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise KeyboardInterrupt


def _interrupted() -> None:
    if _terminated:
        _say("costwise: terminated")
        sys.exit(TERMINATED)
    _say("costwise: interrupted")
    sys.exit(INTERRUPTED)


def _is_usage_error(exc: Exception) -> bool:
    # typer vendors its own click: its UsageError is recognised by shape, not by class
    return isinstance(getattr(exc, "exit_code", None), int) and callable(getattr(exc, "format_message", None))


def main() -> None:
    """Console entry point: user errors become one line on stderr and an exit code."""
    global _terminated
    _terminated = False
    forget_inputs()  # what this run reads, no output of it may replace (costwise.atomic)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _run()
    finally:  # a caller in the same process (tests) gets its own handler back
        signal.signal(signal.SIGTERM, previous)


def _run() -> None:
    try:
        code = app(standalone_mode=False)  # errors come here, to be one line each
    except CostwiseError as exc:
        _say(f"costwise: error: {exc}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _interrupted()
    except (OverflowError, FloatingPointError) as exc:  # a number typed past what the field validators bound
        _say(f"costwise: error: a number given is too large to compute with ({type(exc).__name__}: {exc}); "
             "check the options and the config, pricing and history files' values")
        sys.exit(2)
    except BrokenPipeError:  # `costwise ... | head`: the reader left; nothing more to say
        sys.stderr.close()
        sys.exit(1)
    except Exception as exc:  # a bug, not a user error: still one line unless asked for more
        if _is_usage_error(exc):  # an option typer refused: a bad value, a missing option, no command
            if type(exc).__name__ == "NoArgsIsHelpError":
                app([*sys.argv[1:], "--help"], standalone_mode=False)
            else:
                _say(f"costwise: error: {exc.format_message()} (see --help)")
            sys.exit(exc.exit_code)
        if os.environ.get("COSTWISE_DEBUG"):
            raise
        _say(f"costwise: internal error: {type(exc).__name__}: {exc} (set COSTWISE_DEBUG=1 for a traceback)")
        sys.exit(1)
    if code == INTERRUPTED:  # typer turns Ctrl-C inside a command into exit code 130, silently
        _interrupted()
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
