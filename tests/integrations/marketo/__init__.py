"""Tests of the Marketo connector and its fake."""
