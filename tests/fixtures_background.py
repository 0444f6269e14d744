"""Fixtures for the background tests (schedules, daily e-mail, checkout sweep, qcluster)."""

import socket
import threading
from datetime import timedelta
from email import message_from_bytes

import pytest
from django.db import connections
from django.utils import timezone


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_concurrently(func, count=2):
    """Call ``func()`` from ``count`` real threads released together; returns (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def target():
        try:
            barrier.wait(timeout=10)
            results.append(func())
        except Exception as error:  # collected and asserted on by the caller
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.fixture
def notify_settings(cart_settings):
    """The default site's settings with the daily e-mail switched on, due from midnight."""
    cart_settings.email_system_messages = True
    cart_settings.email_recipients = "shop-admin@example.com, ops@example.com"
    cart_settings.notification_hour = 0
    cart_settings.save()
    return cart_settings


@pytest.fixture
def other_site(site):
    """A second site with its own root page and its own settings (e-mail on, due from midnight)."""
    from wagtail.models import Page, Site

    from wagtail_lockedcarts.models import LockedCartSettings

    root = Page.get_first_root_node()
    home = root.add_child(instance=Page(title="Second shop", slug="second-shop"))
    other = Site.objects.create(hostname="second.example.com", port=80, root_page=home, site_name="Second shop")
    settings = LockedCartSettings.for_site(other)
    settings.email_system_messages = True
    settings.email_recipients = "second-admin@example.com"
    settings.notification_hour = 0
    settings.save()
    return other


@pytest.fixture
def stale_checkout(make_cart):
    """stale_checkout(minutes_ago=120, site=None) → a cart awaiting payment since then."""
    from wagtail_lockedcarts.models import Cart, CartStatus

    def factory(minutes_ago=120, site=None, **fields):
        cart = make_cart(status=CartStatus.AWAITING_PAYMENT, **fields)
        changes = {"checkout_started_at": timezone.now() - timedelta(minutes=minutes_ago)}
        if site is not None:
            changes["site"] = site
        Cart.objects.filter(pk=cart.pk).update(**changes)
        cart.refresh_from_db()
        return cart

    return factory


@pytest.fixture
def aged_order(make_order):
    """aged_order("submitted"|"on_hold", hours_ago=0, site=None) → the admin area's
    ``make_order`` (made through lifecycle), then dated back and/or moved to another site."""
    from wagtail_lockedcarts.models import Order

    def factory(status="submitted", hours_ago=0, site=None):
        order = make_order(status)
        changes = {}
        if hours_ago:
            changes["created_at"] = timezone.now() - timedelta(hours=hours_ago)
            if order.submitted_at:
                changes["submitted_at"] = timezone.now() - timedelta(hours=hours_ago)
        if site is not None:
            changes["site"] = site
        if changes:
            Order.objects.filter(pk=order.pk).update(**changes)
        order.refresh_from_db()
        return order

    return factory


class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that accepts or refuses every message."""

    def __init__(self, refuse=False):
        from aiosmtpd.controller import Controller

        self.refuse = refuse
        self.messages = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.7.1 Relaying denied (test server refuses everything)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def email_settings(self):
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_TIMEOUT": 5,
        }


@pytest.fixture
def smtp_server():
    """smtp_server(refuse=False) → a started :class:`SMTPServer`; all are stopped afterwards."""
    started = []

    def factory(refuse=False):
        server = SMTPServer(refuse=refuse).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()
