"""The run status: one enum used by the database layer, jobs, API and web."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["RUN_STATUSES", "TERMINAL_STATUSES", "RunStatus"]


class RunStatus(StrEnum):
    """Where a run is in its life. The values are what the ``runs.status`` column holds."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """True once the run can change no more."""
        return self in TERMINAL_STATUSES


#: Every status value, in life order (for validation messages and enums in the API).
RUN_STATUSES: tuple[str, ...] = tuple(s.value for s in RunStatus)
#: The statuses a run ends in. StrEnum members compare equal to their strings.
TERMINAL_STATUSES: frozenset[str] = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}
)
