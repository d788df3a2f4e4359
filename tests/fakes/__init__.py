"""Local fake servers for the external APIs Overture talks to."""
