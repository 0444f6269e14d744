"""Fixtures for the paypal tests (owned by that area)."""
