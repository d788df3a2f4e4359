"""Calendar providers: one adapter per kind of calendar (builtin, CalDAV, Google, Microsoft) behind the one
`CalendarProvider` protocol of `provider.py`."""
