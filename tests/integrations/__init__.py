"""Tests of the integrations (integrations/)."""
