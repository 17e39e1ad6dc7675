"""The console entry point (`costwise`, `python -m costwise`): every error becomes one line and an exit code.

0 fine; 1 an environment, account or region could not be read (the others are still reported);
2 bad input; 3 over budget with --fail-on-budget; 130 interrupted; 1 with "internal error" for a bug.
"""

from __future__ import annotations

import os
import sys

import typer

from costwise.cli import _say, app
from costwise.errors import CostwiseError

INTERRUPTED = 130


def _is_usage_error(exc: Exception) -> bool:
    # typer vendors its own click: its UsageError is recognised by shape, not by class
    return isinstance(getattr(exc, "exit_code", None), int) and callable(getattr(exc, "format_message", None))


def main() -> None:
    """Console entry point: user errors become one line on stderr and an exit code."""
    try:
        code = app(standalone_mode=False)  # errors come here, to be one line each
    except CostwiseError as exc:
        _say(f"costwise: error: {exc}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _say("costwise: interrupted")
        sys.exit(INTERRUPTED)
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
        _say("costwise: interrupted")
    sys.exit(code or 0)


if __name__ == "__main__":
    main()
