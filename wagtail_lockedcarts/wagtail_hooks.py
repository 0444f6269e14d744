"""Wagtail registrations only: each function is small and delegates to the module it names."""

from wagtail import hooks

from .log_actions import register_log_actions


@hooks.register("register_log_actions")
def register_cart_log_actions(actions):
    register_log_actions(actions)
