"""Per-module mutation score from mutmut 3's results in mutants/ (see scripts/mutants.sh).

Counts only the mutants in scope (for the daily notification, its claim functions), and lists
every survivor with its diff, so docs/mutation-testing.md can explain each one.
"""

import argparse
import fnmatch
import json
import random
import subprocess
import sys
from pathlib import Path

NOTIFICATION_CLAIM = ("_claim", "_is_due", "send_daily_notification", "send_due_daily_notifications")
MODULES = {
    "lifecycle": ("wagtail_lockedcarts/lifecycle.py", ["wagtail_lockedcarts.lifecycle.*"]),
    "rules": ("wagtail_lockedcarts/rules.py", ["wagtail_lockedcarts.rules.*"]),
    "reconcile": ("wagtail_lockedcarts/paypal/reconcile.py", ["wagtail_lockedcarts.paypal.reconcile.*"]),
    "webhooks": ("wagtail_lockedcarts/paypal/webhooks.py", ["wagtail_lockedcarts.paypal.webhooks.*"]),
    "checkout": ("wagtail_lockedcarts/storefront/checkout.py", ["wagtail_lockedcarts.storefront.checkout.*"]),
    "permissions": ("wagtail_lockedcarts/admin/permissions.py", ["wagtail_lockedcarts.admin.permissions.*"]),
    "notifications": (
        "wagtail_lockedcarts/background/notifications.py",
        [f"wagtail_lockedcarts.background.notifications.x_{name}__mutmut_*" for name in NOTIFICATION_CLAIM],
    ),
    "validators": ("wagtail_lockedcarts/models/validators.py", ["wagtail_lockedcarts.models.validators.*"]),
}
# Functions that only run while Django starts (model Meta, AppConfig.ready), before mutmut can
# switch a mutant on: their mutants can never be observed, so they are left out of the score.
IMPORT_TIME = [
    "*.x_card_constraints__mutmut_*",
    "*.x_register_order_policy__mutmut_*",
    "*.x_register_policies__mutmut_*",
]
# Mutants no test can kill because no observable behaviour changes, each with the reason. They are
# listed in the report and left out of the score (killed / (checked - equivalent)). Keep this the
# one place where equivalence is recorded.
EQUIVALENT = {
    "wagtail_lockedcarts.paypal.webhooks.x__process__mutmut_25": (
        "the processed_at filter dropped from the duplicate check: an event row is only ever written"
        " once processed, with processed_at set"
    ),
    "wagtail_lockedcarts.paypal.webhooks.x__process__mutmut_27": (
        "_plain(200) → _plain(None) for a duplicate: Django's HttpResponse answers 200 for None"
    ),
    "wagtail_lockedcarts.paypal.webhooks.x__process__mutmut_59": (
        "the order id cut at 65 instead of 64: order_id_for_event returns only ids of at most 64"
        " characters (ORDER_ID_PATTERN)"
    ),
    "wagtail_lockedcarts.paypal.webhooks.x__receive__mutmut_17": (
        "a missing Content-Length read as 1 instead of 0 before the size check: neither is over any"
        " limit of a byte or more, and a 0-byte limit refuses the delivery either way (413 or 400)"
    ),
    "wagtail_lockedcarts.paypal.webhooks.x_order_id_for_event__mutmut_6": (
        'a missing event type read as "XXXX" instead of "": it is only compared with the handled event'
        " types, which contain neither"
    ),
    "wagtail_lockedcarts.lifecycle.x__bulk_log__mutmut_9": (
        "for_concrete_model=False → None: ContentType.objects.get_for_model only tests it for truth"
    ),
    "wagtail_lockedcarts.lifecycle.x__compare_and_set__mutmut_15": (
        'total recomputed when "status" is absent, not when it alone changes: a status-only change (lock,'
        " order) never moves the total, and a recompute from the row's own status and amount gives it again"
    ),
    "wagtail_lockedcarts.lifecycle.x__on_completed__mutmut_75": (
        "changed=False → None where the cart is not frozen: unreachable, as an ordered cart returned earlier"
        " and an open one has no PayPal order (so no current result) and no amount (so a mismatch)"
    ),
    "wagtail_lockedcarts.lifecycle.x__on_completed__mutmut_100": (
        "order or _existing_order(cart) → order and …: the order was just made, so both give it; the"
        " fallback is never needed (the compare-and-set cannot lose under the cart's row lock)"
    ),
    "wagtail_lockedcarts.lifecycle.x__create_order__mutmut_1": (
        'override_reason\'s default "" → "XXXX": both callers pass it, so the default is never used'
    ),
    "wagtail_lockedcarts.lifecycle.x__record_attempt__mutmut_41": (
        'the last history row by "-at", "-pk" → by "-pk" alone: rows are only ever inserted, each stamped'
        " with the clock at insertion, so the newest row has both the latest time and the highest key"
    ),
    "wagtail_lockedcarts.lifecycle.x__compare_and_set__mutmut_20": (
        '"status" left out of the stored-total expression: only begin_checkout passes status and amount'
        " together, and the amount it freezes is the lines' sum, which the expression gives for the old"
        " (open) status"
    ),
    "wagtail_lockedcarts.lifecycle.x_begin_checkout__mutmut_24": (
        'paypal_order_id="" not written at checkout: the cart is open, and every way back to open (_reopen)'
        " already cleared it (a new cart starts empty)"
    ),
    "wagtail_lockedcarts.lifecycle.x_begin_checkout__mutmut_25": (
        'paypal_capture_id="" not written at checkout: as paypal_order_id, _reopen already cleared it'
    ),
    "wagtail_lockedcarts.lifecycle.x__touch__mutmut_8": (
        'cart.__dict__.pop("stored_total", None) without its default: stored_total is a column, loaded with'
        " every cart row, so it is always there to pop"
    ),
    "wagtail_lockedcarts.lifecycle.x__bulk_log__mutmut_3": (
        "`or not carts` → `and`: the log model is always registered, and with no carts the bulk INSERT writes nothing"
    ),
    "wagtail_lockedcarts.lifecycle.x__compare_and_set__mutmut_17": (
        '"amount" → "AMOUNT" in the stored-total test: no transition changes the amount without the status, which still triggers it'
    ),
    "wagtail_lockedcarts.lifecycle.x__create_order__mutmut_49": (
        "the live cart's amount taken even when None: a cart reaching an order is frozen, and every frozen cart has its amount"
    ),
    "wagtail_lockedcarts.lifecycle.x__on_pending__mutmut_55": (
        "order or _existing_order(cart) → and: as _on_completed 100, the order was just made under the cart's row lock"
    ),
    "wagtail_lockedcarts.lifecycle.x__on_pending__mutmut_58": (
        "== LOCKED → != LOCKED before PENDING_PAYMENT: only a locked cart has a lock reason, and the fall-through _lock on a locked cart hands back the same (cart, False)"
    ),
    "wagtail_lockedcarts.lifecycle.x_apply_payment_result__mutmut_3": (
        "_locked_cart(None) called for a deleted cart: it returns None as the guard did (one query more)"
    ),
    "wagtail_lockedcarts.lifecycle.x_update_line__mutmut_32": (
        "save(update_fields=None) after a quantity change: the line was just read under its row lock, so saving every field writes the same values"
    ),
    "wagtail_lockedcarts.lifecycle.x_add_line__mutmut_36": (
        "save(update_fields=None) after adding to a line: as update_line 32, the other fields hold what was just read under the row lock"
    ),
    "wagtail_lockedcarts.lifecycle.x__on_pending__mutmut_56": (
        "_existing_order(cart) → (None) where the hold policy's order was not made: it is always made there,"
        " as apply_payment_result holds the cart's row lock and the cart was just seen awaiting payment"
    ),
    "wagtail_lockedcarts.lifecycle.x_stale_checkouts__mutmut_4": (
        "the cart-number tiebreak dropped: on SQLite (the mutation run's database) the index walk already"
        " breaks ties by rowid; tests/test_lifecycle.py::test_stale_checkouts_come_oldest_checkout_first_then"
        "_by_cart_number kills it on PostgreSQL"
    ),
    "wagtail_lockedcarts.admin.permissions.xǁCartPermissionPolicyǁuser_has_permission_for_instance__mutmut_9": (
        "instance → None: Wagtail's ModelPermissionPolicy answers per model and ignores the instance"
    ),
    "wagtail_lockedcarts.admin.permissions.xǁOrderPermissionPolicyǁuser_has_permission_for_instance__mutmut_9": (
        "instance → None: Wagtail's ModelPermissionPolicy answers per model and ignores the instance"
    ),
    "wagtail_lockedcarts.background.notifications.x_send_daily_notification__mutmut_106": (
        "recipients=0 dropped from an empty day's update: the claim row was just created with the field's"
        " default, 0, and nothing else writes it before"
    ),
    "wagtail_lockedcarts.background.notifications.x_send_daily_notification__mutmut_149": (
        "message.send(fail_silently=False) → None: Django's backends only test it for truth, and None is"
        " falsy like False"
    ),
    "wagtail_lockedcarts.models.validators.x_clean_payer_email__mutmut_4": (
        'a non-string payer e-mail becomes "XXXX" instead of "": not an address either, so "" is returned'
    ),
    "wagtail_lockedcarts.paypal.webhooks.x__process__mutmut_62": (
        "_plain(200) → _plain(None): Django's HttpResponse answers 200 when the status is None"
    ),
    "wagtail_lockedcarts.storefront.checkout.x__checkout__mutmut_93": (
        'the default of getattr(error, "reason", "") → None: the only PayPalException that is not a'
        " PayPalError (caught before) is PayPalUnavailable, which always has a reason"
    ),
    "wagtail_lockedcarts.storefront.checkout.x__checkout__mutmut_96": (
        'the default of getattr(error, "reason", "") → none given: the only PayPalException that is not a'
        " PayPalError (caught before) is PayPalUnavailable, which always has a reason"
    ),
    "wagtail_lockedcarts.storefront.checkout.x__checkout__mutmut_99": (
        'the default of getattr(error, "reason", "") → "XXXX": the only PayPalException that is not a'
        " PayPalError (caught before) is PayPalUnavailable, which always has a reason"
    ),
    "wagtail_lockedcarts.storefront.checkout.x__result_page__mutmut_14": (
        "cart ordered *and* an order → *or*: lifecycle writes an order and its cart's ordered status in one"
        " transaction, so one never exists without the other"
    ),
    "wagtail_lockedcarts.models.validators.x_clean_card__mutmut_5": (
        "the brand cut at 21 instead of 20 characters: the longest known brand has 15, so any cut brand is"
        " unknown and refused either way"
    ),
    "wagtail_lockedcarts.models.validators.x_clean_card__mutmut_8": (
        'a missing last4 becomes "XXXX" instead of "": neither is four digits, so ("", "") is returned either way'
    ),
    "wagtail_lockedcarts.paypal.reconcile.x__find__mutmut_3": (
        'select_related("cart") dropped: the same cart row is loaded lazily, one query more; no query budget'
        " covers a reconcile, which makes one or more HTTP calls to PayPal anyway"
    ),
}
KILLED = {1, 3, 36, 37, 24, -24, 152, 255}  # killed, pytest error, timeout, type check, SIGXCPU
SURVIVED = {0}
NO_TESTS = {5, 33}


def classify(code, key=""):
    if key in EQUIVALENT and code in SURVIVED:
        return "equivalent"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code is None:
        return "not checked"
    return "other"


def in_scope(module):
    """{mutant name: exit code or None} of one module's mutants in scope."""
    path, globs = MODULES[module]
    meta = Path("mutants") / (path + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    return {
        key: code
        for key, code in codes.items()
        if any(fnmatch.fnmatch(key, g) for g in globs) and not any(fnmatch.fnmatch(key, g) for g in IMPORT_TIME)
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--commit", default="")
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--diffs", action="store_true", help="include each survivor's diff")
    parser.add_argument("--names", action="store_true", help="print the mutant names in scope and stop")
    parser.add_argument("--sample", type=int, default=0, help="with --names: at most N random names per module")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--survivors", action="store_true", help="with --names: only the mutants that survived their last run"
    )
    args = parser.parse_args()

    if args.names:
        rng = random.Random(args.seed)
        for name in args.modules:
            mine = in_scope(name)
            names = sorted(mine)
            if args.survivors:
                names = [key for key in names if classify(mine[key], key) in ("survived", "no tests", "other")]
            elif args.sample and len(names) > args.sample:
                names = sorted(rng.sample(names, args.sample))
            if names:
                print("\n".join(names))
        return

    rows, survivors = [], []
    for name in args.modules:
        mine = in_scope(name)
        counts = {}
        for key, code in sorted(mine.items()):
            status = classify(code, key)
            counts[status] = counts.get(status, 0) + 1
            if status in ("survived", "no tests", "other"):
                survivors.append((name, key, status))
        checked = (
            counts.get("killed", 0) + counts.get("survived", 0) + counts.get("no tests", 0) + counts.get("other", 0)
        )
        score = f"{100 * counts.get('killed', 0) / checked:.1f}%" if checked else "–"
        # Unchecked mutants (outside a sample) are not in the score.
        rows.append((name, len(mine), counts, score))

    lines = [
        f"Measured on commit `{args.commit}`"
        + (f" in {args.seconds // 60} min {args.seconds % 60} s" if args.seconds else ""),
        "",
        'Score = killed / (checked − equivalent); mutants outside a sample are "not checked" and not in it.',
        "",
        "| module | mutants | checked | killed | survived | no tests | equivalent | not checked | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, total, counts, score in rows:
        checked = total - counts.get("not checked", 0)
        lines.append(
            f"| {name} | {total} | {checked} | {counts.get('killed', 0)} | {counts.get('survived', 0)} | "
            f"{counts.get('no tests', 0) + counts.get('other', 0)} | {counts.get('equivalent', 0)} | "
            f"{counts.get('not checked', 0)} | {score} |"
        )
    lines += ["", "Equivalent mutants (checked, survived, and no behaviour can differ):", ""]
    for name in args.modules:
        for key, code in sorted(in_scope(name).items()):
            if classify(code, key) == "equivalent":
                lines.append(f"- {name}: `{key}`: {EQUIVALENT[key]}")
    lines += ["", "Survivors (`mutmut show NAME` prints the diff):", ""]
    for name, key, status in survivors:
        lines.append(f"- {name}: `{key}` ({status})")
        if args.diffs:
            diff = subprocess.run([sys.executable, "-m", "mutmut", "show", key], capture_output=True, text=True).stdout
            lines += ["", "```diff", diff.strip(), "```", ""]
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
