"""A month of checkouts through the real views, the sandbox, webhooks, the sweep and the daily
notification keeps every money invariant at exactly zero (``benchmarks/month.py``).

``make test`` plays a short month of a few hundred shoppers with a fixed seed; ``make month``
runs the same test with the environment asking for the full month and its report.

Planted to see it fail: ``paypal_cancel`` applying "cancelled" when PayPal cannot be reached (the
``except PayPalException`` branch) makes ``changed_while_paypal_unreachable`` 6 with the default
seed; shoppers who press cancel during outages are part of the mix for that reason.
"""

import os

import time_machine

from benchmarks.month import Mix, Month, write_report

ZERO = {
    "orders_lost": 0,
    "double_orders": 0,
    "wrong_totals": 0,
    "stuck_awaiting_payment": 0,
    "changed_while_paypal_unreachable": 0,
}


def test_a_month_of_checkouts_loses_no_money_and_leaves_fewer_carts_to_a_person(
    paypal_sandbox, shop, cart_settings, postgres, mailoutbox
):
    cart_settings.email_system_messages = True
    cart_settings.save()
    full = bool(os.environ.get("LOCKEDCARTS_MONTH_REPORT"))
    shoppers = int(os.environ.get("LOCKEDCARTS_MONTH_SHOPPERS", 200))
    seed = int(os.environ.get("LOCKEDCARTS_MONTH_SEED", 20261129))
    days = int(os.environ.get("LOCKEDCARTS_MONTH_DAYS", 7))
    # The short month compresses the slow tails (eCheck clearing, refunds) to keep the suite quick.
    mix = Mix() if full else Mix(echeck_days=(2, 3), refund_days=(1, 3))
    with time_machine.travel(Month.START, tick=False) as clock:
        report = Month(paypal_sandbox, shop, clock, shoppers=shoppers, seed=seed, days=days, mix=mix).run()
    if full:
        print(write_report(report).read_text())

    assert report.checkouts > shoppers * 0.8
    # The month played what the invariants guard against: outages with shoppers pressing cancel.
    assert report.outage_minutes > 0 and report.cancels_while_unreachable > 0
    assert report.invariants == ZERO
    assert report.needed < report.article
