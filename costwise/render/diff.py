"""A unified diff (`costwise suggest`): the recommended limits as a patch `git apply` accepts.

The patch is built from the files' bytes by costwise.iac.source.git_patch (git's lines, git's path
quoting) and rendered as it is: any change here would move what git reads."""

from __future__ import annotations


def suggest(result) -> str:
    return result.diff
