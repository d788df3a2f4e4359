"""Calendar providers: one module per kind of calendar (built-in, CalDAV, Google, Microsoft), each a
`CalendarProvider` (`provider.py`) with the same entry points, found by name in `registry.py`; an agent's
connection to one in `connections.py`."""
