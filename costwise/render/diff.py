"""A unified diff (`costwise suggest`): the recommended limits as a patch `git apply` accepts."""

from __future__ import annotations


def suggest(result) -> str:
    return result.diff
