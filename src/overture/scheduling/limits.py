"""The bounds of every scheduling number, in one table: an agent's own settings and a meeting type's, which
overrides them for its meetings, are checked against the same range (lowest, highest), so a value one accepts the
other never refuses."""

from __future__ import annotations

BOUNDS: dict[str, tuple[int, int]] = {
    "duration_minutes": (5, 480),
    "buffer_before_minutes": (0, 240),
    "buffer_after_minutes": (0, 240),
    "notice_minutes": (0, 90 * 24 * 60),
    "horizon_days": (0, 365),
    "step_minutes": (5, 240),
    "daily_max": (1, 100),
    "weekly_max": (1, 250),
}
# What a meeting type may set for its meetings (a week's cap stays the agent's own).
MEETING_TYPE_SETTINGS = tuple(name for name in BOUNDS if name != "weekly_max")
