"""Errors a user can act on. The CLI prints them as one line and exits with their code."""

from __future__ import annotations


class CostwiseError(Exception):
    """An error with a message meant for the user and the exit code that goes with it."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(CostwiseError):
    """Bad input: a file, an option or a config value. Exit code 2, like a usage error."""

    exit_code = 2


class AwsError(CostwiseError):
    """AWS could not be read for one environment (missing cache, denied, throttled...)."""

    exit_code = 1
