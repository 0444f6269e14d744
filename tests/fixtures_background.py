"""Fixtures for the background tests (owned by that area)."""
