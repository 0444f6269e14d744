"""Fixtures for the admin tests (owned by that area)."""
