"""What a backup or a restore refuses, each saying that nothing was written or restored (the
rest of the hierarchy is ``core.errors``). See docs/operations.md#backups."""

from __future__ import annotations

from core.errors import GridBoardError


class BackupRefusal(GridBoardError):
    """A backup that cannot be written where it was asked for; nothing was written."""

    def __init__(self, destination: str, reason: str) -> None:
        self.destination = destination
        self.reason = reason
        super().__init__(f"cannot back up to {destination}: {reason}; nothing was written")


class NotABackup(GridBoardError):
    """A file given to restore that is not a sound GridBoard backup; nothing was restored."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(
            f"{source} is not a GridBoard backup that can be restored: {reason}; "
            "nothing was restored"
        )


class RestoreRefusal(GridBoardError):
    """A database that a backup may not (yet) replace; nothing was restored."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"cannot restore into {target}: {reason}; nothing was restored")


class MissingTool(GridBoardError):
    """A PostgreSQL client program is not installed; ``command`` is what to run instead."""

    def __init__(self, tool: str, command: str) -> None:
        self.tool = tool
        self.command = command
        super().__init__(
            f"{tool} was not found on PATH or under /usr/lib/postgresql/*/bin: install the "
            f"PostgreSQL client programs (Debian: apt install postgresql-client), or run "
            f"yourself:\n  {command}"
        )


class ToolFailure(GridBoardError):
    """A PostgreSQL client program ended with an error; nothing was written or restored."""

    def __init__(self, tool: str, status: int, output: str) -> None:
        self.tool = tool
        self.status = status
        self.output = output
        lines = [line for line in output.strip().splitlines() if line.strip()][-5:]
        detail = "\n  ".join(lines) or "(no message)"
        super().__init__(f"{tool} failed with exit status {status}:\n  {detail}")
