"""Meetings: availability (pure), routing, booking, meetings and iCalendar invites."""
