"""Overture: self-hosted conversational marketing."""

__version__ = "0.1.0"
