"""Reports: what every dialogue yields, counted from the activity log and the conversations (docs/reports.md)."""
