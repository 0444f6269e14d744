"""Demo data for the example shop: products, customers, carts in every state, orders in every status.

Idempotent: every object has a natural key (page slug, SKU, username, PayPal order id, guest
session key) and is only created when it is missing, so a second run changes nothing. A scenario
the demo admin has used up (a deleted cart) comes back on the next run; one they acted on
(an unlocked cart) is left as they left it.

Carts reach their state the way real ones do, through :mod:`wagtail_lockedcarts.lifecycle`
(checkout, PayPal's answer, the timeout lock, an admin's confirmation) — never by writing a
status. Only timestamps are moved back afterwards, so the admin sees a cart that has been locked
for two days, with a history that says so.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry, Page, Site

from shop.models import ProductPage, ShopIndexPage
from wagtail_lockedcarts import conf, lifecycle
from wagtail_lockedcarts.contrib.paypal_sandbox import seeding
from wagtail_lockedcarts.contrib.paypal_sandbox.models import SandboxOrder
from wagtail_lockedcarts.models import (
    Cart,
    LockedCartSettings,
    LockReason,
    Order,
    PaymentAttempt,
    PendingPaymentPolicy,
)
from wagtail_lockedcarts.paypal.reconcile import payment_result_from_order

DEMO_PASSWORD = "demo"
ADMIN_EMAIL = "admin@example.com"
#: Minutes before a checkout nobody came back from locks ("no return"): short, so a visitor can
#: watch it happen. A real shop keeps the default hour.
DEMO_CHECKOUT_TIMEOUT_MINUTES = 2
#: The demo's fulfilment service is "down" for the seeded submitted order (see shop.fulfilment).
FAILING_EXPORTER = "shop.fulfilment.unreachable"

SHOP_INTRO = (
    "<p>Everything here is for show: checkout goes to an offline PayPal sandbox, where each "
    "button does what it says. <b>Pay</b> and <b>Pay and close the window</b> make an order at "
    "once (the second through PayPal's webhook). <b>Pay – pending (eCheck)</b> locks the cart "
    "for an admin to check. To see a cart lock because its shopper never came back, check out "
    f"and leave PayPal's page without choosing anything: after {DEMO_CHECKOUT_TIMEOUT_MINUTES} "
    "minutes the cart is locked in the admin's <b>Cart Management</b>.</p>"
)

PRODUCTS = [
    (
        "MUG-ENAMEL",
        "Enamel camping mug",
        "12.50",
        "Speckled enamel, 350 ml. Survives campfires and office kitchens alike.",
    ),
    ("TEE-ORGANIC", "Organic cotton T-shirt", "25.00", "Heavyweight organic cotton, printed with water-based inks."),
    ("CAP-CANVAS", "Canvas cap", "19.90", "Waxed canvas with a brass buckle. One size."),
    ("BOTTLE-STEEL", "Steel water bottle", "22.00", "Double-walled, keeps drinks cold for 24 hours. 750 ml."),
    ("NOTEBOOK-A5", "Dotted A5 notebook", "9.99", "192 pages of 100 g/m² paper that fountain pens like."),
    ("TOTE-CANVAS", "Canvas tote bag", "14.00", "Heavy canvas, long handles, an inner pocket for keys."),
]

CUSTOMERS = [
    ("alice", "Alice", "Martin", "alice@example.com"),
    ("bob", "Bob", "Keller", "bob@example.com"),
    ("chloe", "Chloé", "Dubois", "chloe@example.com"),
]


@dataclass
class Scenario:
    """One demo cart: who owns it, what is in it, where it ends up and how long ago."""

    key: str
    lines: list
    customer: str = ""  # username; empty = a guest, identified by ``session_key``
    session_key: str = ""
    paypal_order_id: str = ""
    build: str = "open"  # name of the Command method that drives the lifecycle
    card: tuple = ("", "")
    payer_email: str = ""
    capture_id: str = ""
    # The sandbox's side of the checkout at the end of the story (seeding.record_order arguments).
    paypal: dict = field(default_factory=dict)
    # Ages (hours before now) of the steps that happened, for backdating.
    ages: dict = field(default_factory=dict)


SCENARIOS = [
    Scenario("open-chloe", [("TEE-ORGANIC", 1), ("CAP-CANVAS", 2)], customer="chloe", ages={"created": 3}),
    Scenario("open-guest", [("MUG-ENAMEL", 2)], session_key="demo-guest-open", ages={"created": 0.7}),
    Scenario(
        "awaiting",
        [("BOTTLE-STEEL", 1), ("NOTEBOOK-A5", 3)],
        session_key="demo-guest-checkout",
        paypal_order_id="8MC585209K746392H",
        build="awaiting",
        paypal={"state": seeding.NOT_APPROVED},
        # Not backdated: it locks (no return) a few minutes after seeding, for the visitor to watch.
        ages={"created": 0.5},
    ),
    Scenario(
        "locked-pending",
        [("TEE-ORGANIC", 2), ("TOTE-CANVAS", 1)],
        customer="alice",
        paypal_order_id="5O190127TN364715T",
        build="locked_pending",
        card=("VISA", "4242"),
        capture_id="3C679366HH908993F",
        paypal={"state": seeding.CAPTURED, "capture_status": "PENDING", "capture_reason": "ECHECK"},
        ages={"created": 50, "checkout": 49, "locked": 48.9},
    ),
    Scenario(
        "locked-no-return",
        [("BOTTLE-STEEL", 1), ("CAP-CANVAS", 1)],
        customer="bob",
        paypal_order_id="7HX70425FL2368331",
        build="locked_no_return",
        paypal={"state": seeding.NOT_APPROVED},
        ages={"created": 27.5, "checkout": 27, "locked": 26},
    ),
    Scenario(
        "locked-mismatch",
        [("MUG-ENAMEL", 1), ("NOTEBOOK-A5", 2)],
        session_key="demo-guest-mismatch",
        paypal_order_id="9VU16383DK4127051",
        build="locked_mismatch",
        card=("AMEX", "8431"),
        payer_email="sam.taylor@example.org",
        capture_id="2GG279541U471931P",
        paypal={"state": seeding.CAPTURED, "capture_status": "COMPLETED", "short_by": Decimal("5.00")},
        ages={"created": 6, "checkout": 5.5, "locked": 5.4},
    ),
    Scenario(
        "order-on-hold",
        [("NOTEBOOK-A5", 2)],
        customer="chloe",
        paypal_order_id="1JE47123UV836514W",
        build="order_on_hold",
        card=("VISA", "1881"),
        capture_id="8MW35017RG292531K",
        paypal={"state": seeding.CAPTURED, "capture_status": "PENDING", "capture_reason": "PAYMENT_REVIEW"},
        ages={"created": 30, "checkout": 29.8, "ordered": 29.7},
    ),
    Scenario(
        "order-submitted",
        [("TEE-ORGANIC", 1), ("MUG-ENAMEL", 1)],
        customer="bob",
        paypal_order_id="4RT87620MK1853729",
        build="order_submitted",
        card=("MASTERCARD", "0604"),
        capture_id="6HN27364XA917702L",
        paypal={"state": seeding.CAPTURED, "capture_status": "PENDING", "capture_reason": "ECHECK"},
        ages={"created": 75, "checkout": 74, "locked": 73, "ordered": 70},
    ),
    Scenario(
        "order-exported",
        [("CAP-CANVAS", 1), ("BOTTLE-STEEL", 2)],
        customer="alice",
        paypal_order_id="2WD58390LS4470938",
        build="order_exported",
        card=("VISA", "1111"),
        capture_id="0KX63112BT5508311",
        paypal={"state": seeding.CAPTURED, "capture_status": "COMPLETED"},
        ages={"created": 121, "checkout": 120.5, "ordered": 120.4, "exported": 120.3},
    ),
    Scenario(
        "order-reversed",
        [("TOTE-CANVAS", 2), ("MUG-ENAMEL", 1)],
        session_key="demo-guest-chargeback",
        paypal_order_id="3LK90215PQ7736482",
        build="order_reversed",
        card=("MASTERCARD", "5100"),
        payer_email="jo.weber@example.org",
        capture_id="5TY80216GH3391024",
        # PayPal's answer today: the payer's bank took the money back (a chargeback).
        paypal={"state": seeding.CAPTURED, "capture_status": "REFUNDED", "capture_reason": "CHARGEBACK"},
        ages={"created": 98, "checkout": 97.9, "ordered": 97.8, "exported": 97.7, "reversed": 20},
    ),
    Scenario(
        "unmatched-payment",
        [("CAP-CANVAS", 1), ("NOTEBOOK-A5", 1)],
        session_key="demo-guest-deleted",
        paypal_order_id="6BN31597TR2208465",
        build="unmatched_payment",
        card=("VISA", "0077"),
        payer_email="noah.fischer@example.org",
        capture_id="1RF42968WJ5570213",
        # PayPal's answer today: the eCheck cleared, after the cart had been deleted.
        paypal={"state": seeding.CAPTURED, "capture_status": "COMPLETED"},
        ages={"created": 55, "checkout": 54, "locked": 53.9, "deleted": 50, "settled": 8},
    ),
]

# Which step of the timeline each audit-log action belongs to.
LOG_STEP = {
    lifecycle.LOG_CHECKOUT: "checkout",
    lifecycle.LOG_LOCK: "locked",
    lifecycle.LOG_CONFIRM: "ordered",
    lifecycle.LOG_RECONCILE: "ordered",
    lifecycle.LOG_ORDER: "ordered",
    lifecycle.LOG_EXPORT: "exported",
    lifecycle.LOG_PAYMENT_REVERSED: "reversed",
    lifecycle.LOG_DELETE: "deleted",
}


class Command(BaseCommand):
    help = "Create (or complete) the demo shop: products, customers, carts in every state, orders."

    def handle(self, *args, **options):
        self.now = timezone.now()
        self.api_base = conf.get("PAYPAL")["API_BASE"].rstrip("/")
        self.shop_base = (getattr(django_settings, "WAGTAILADMIN_BASE_URL", "") or "").rstrip("/")
        self.site = Site.objects.get(is_default_site=True)
        self.products = self.ensure_shop()
        self.users = self.ensure_customers()
        self.admin = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
        self.settings = self.ensure_settings()
        created = [scenario.key for scenario in SCENARIOS if self.ensure_scenario(scenario)]
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(self.products)} products, {len(self.users)} customers, "
                f"{Cart.objects.count()} carts ({Cart.objects.locked().count()} locked), "
                f"{Order.objects.count()} orders. "
                + (f"Created: {', '.join(created)}." if created else "Nothing was missing.")
            )
        )

    # ----------------------------------------------------------------------------------------
    # catalogue, customers, settings

    def ensure_shop(self):
        """The shop index becomes the default site's home page, so / lists the products."""
        root = Page.get_first_root_node()
        index = ShopIndexPage.objects.filter(slug="shop").first()
        if index is None:
            index = ShopIndexPage(title="Demo shop", slug="shop", intro=SHOP_INTRO)
            root.add_child(instance=index)
            index.save_revision().publish()
        if self.site.root_page_id != index.pk:
            old_root = self.site.root_page
            self.site.root_page = index
            self.site.site_name = "Locked carts demo shop"
            self.site.save()
            self._remove_wagtail_welcome_page(old_root)
        products = {}
        for sku, title, price, description in PRODUCTS:
            product = ProductPage.objects.filter(sku=sku).first()
            if product is None:
                product = ProductPage(
                    title=title, slug=sku.lower(), sku=sku, price=Decimal(price), description=f"<p>{description}</p>"
                )
                index.add_child(instance=product)
                product.save_revision().publish()
            products[sku] = product
        return products

    def _remove_wagtail_welcome_page(self, page):
        """Wagtail's untouched "Welcome to your new Wagtail site!" page is no use once the shop is home."""
        if (
            page is not None
            and page.depth == 2
            and page.content_type.model_class() is Page
            and page.slug == "home"
            and not page.get_children().exists()
            and not Site.objects.filter(root_page=page).exists()
        ):
            page.delete()

    def ensure_customers(self):
        User = get_user_model()
        users = {}
        for username, first, last, email in CUSTOMERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username, email, DEMO_PASSWORD, first_name=first, last_name=last)
            users[username] = user
        return users

    def ensure_settings(self):
        """Daily e-mails on (to the file backend in sent_mail/); pending payments lock the cart;
        an unanswered checkout locks after a couple of minutes."""
        settings = LockedCartSettings.for_site(self.site)
        settings.email_system_messages = True
        settings.email_recipients = ADMIN_EMAIL
        settings.pending_payment_policy = PendingPaymentPolicy.LOCK
        settings.checkout_timeout_minutes = DEMO_CHECKOUT_TIMEOUT_MINUTES
        settings.save()
        return settings

    # ----------------------------------------------------------------------------------------
    # carts

    def ensure_scenario(self, scenario):
        if self.exists(scenario):
            self.ensure_paypal_knows(scenario)
            return False
        cart = self.new_cart(scenario)
        for sku, quantity in scenario.lines:
            lifecycle.add_line(cart, self.products[sku].cart_key, quantity)
        getattr(self, f"build_{scenario.build}")(cart, scenario)
        self.backdate(cart, scenario)
        return True

    def exists(self, scenario):
        if scenario.paypal_order_id:
            if (
                Cart.objects.filter(paypal_order_id=scenario.paypal_order_id).exists()
                or Order.objects.filter(paypal_order_id=scenario.paypal_order_id).exists()
            ):
                return True
            # An admin deleted this demo cart; its payment record outlives it. PayPal holds no
            # money for it (demo data), so the record goes and the scenario is built again.
            PaymentAttempt.objects.filter(
                paypal_order_id=scenario.paypal_order_id, cart__isnull=True, capture_status=""
            ).delete()
            return PaymentAttempt.objects.filter(paypal_order_id=scenario.paypal_order_id).exists()
        if scenario.customer:
            return Cart.objects.active().filter(user=self.users[scenario.customer]).exists()
        return Cart.objects.filter(session_key=scenario.session_key).exists()

    def ensure_paypal_knows(self, scenario):
        """A demo database seeded before the sandbox kept its own records gets them now, so
        *Check PayPal now* finds every seeded order."""
        if not scenario.paypal_order_id or SandboxOrder.objects.filter(pk=scenario.paypal_order_id).exists():
            return
        attempt = PaymentAttempt.objects.filter(paypal_order_id=scenario.paypal_order_id).first()
        order = Order.objects.filter(paypal_order_id=scenario.paypal_order_id).first()
        amount, currency = (attempt.amount, attempt.currency) if attempt else (order.total, order.currency)
        self.record_at_paypal(scenario, amount, currency)

    def new_cart(self, scenario):
        """The row the storefront would create on a shopper's first "Add to cart"."""
        user = self.users.get(scenario.customer)
        return Cart.objects.create(
            site=self.site,
            user=user,
            session_key=scenario.session_key,
            currency="EUR",
            customer_email=user.email if user else "",
        )

    def record_at_paypal(self, scenario, amount, currency, invoice_id="", **overrides):
        """The sandbox's own record of this checkout: what *Check PayPal now* will be told."""
        paypal = {**scenario.paypal, **overrides}
        short_by = paypal.pop("short_by", None)
        user = self.users.get(scenario.customer)
        return seeding.record_order(
            scenario.paypal_order_id,
            amount=amount,
            currency=currency,
            captured_amount=amount - short_by if short_by else None,
            capture_id=scenario.capture_id,
            card=scenario.card,
            payer_email=scenario.payer_email or (user.email if user else "buyer@example.com"),
            invoice_id=invoice_id,
            return_url=self.shop_base + reverse("wagtail_lockedcarts:paypal_return"),
            cancel_url=self.shop_base + reverse("wagtail_lockedcarts:paypal_cancel"),
            **paypal,
        )

    def checkout(self, cart, scenario, **overrides):
        """Checkout as the storefront does it, with the sandbox holding the matching PayPal order."""
        attempt = lifecycle.begin_checkout(cart)
        self.record_at_paypal(
            scenario, attempt.amount, attempt.currency, invoice_id=f"cart-{cart.pk}-{attempt.pk}", **overrides
        )
        lifecycle.attach_paypal_order(
            attempt, scenario.paypal_order_id, f"{self.api_base}/checkoutnow?token={scenario.paypal_order_id}"
        )
        cart.refresh_from_db()
        return cart

    def paypal_says(self, cart, scenario):
        """Apply the sandbox's answer for this order, reduced the way reconciliation reduces it."""
        order = seeding.representation(scenario.paypal_order_id, self.api_base)
        return lifecycle.apply_payment_result(cart, payment_result_from_order(order))

    def build_open(self, cart, scenario):
        pass

    def build_awaiting(self, cart, scenario):
        self.checkout(cart, scenario)

    def build_locked_pending(self, cart, scenario):
        """Paid by eCheck: PayPal says PENDING and the site never processes pending payments."""
        cart = self.checkout(cart, scenario)
        self.paypal_says(cart, scenario)

    def build_locked_no_return(self, cart, scenario):
        """Sent to PayPal, never came back, never paid: PayPal has nothing, the timeout locked it."""
        cart = self.checkout(cart, scenario)
        self.paypal_says(cart, scenario)
        lifecycle.lock_cart(cart, LockReason.NO_RETURN)

    def build_locked_mismatch(self, cart, scenario):
        """PayPal captured less than the cart's total: never confirmed automatically."""
        cart = self.checkout(cart, scenario)
        self.paypal_says(cart, scenario)

    def build_order_on_hold(self, cart, scenario):
        """A pending payment accepted as an order on hold (the site's policy at the time)."""
        cart = self.checkout(cart, scenario)
        self.settings.pending_payment_policy = PendingPaymentPolicy.HOLD
        self.settings.save(update_fields=["pending_payment_policy"])
        try:
            self.paypal_says(cart, scenario)
        finally:
            self.settings.pending_payment_policy = PendingPaymentPolicy.LOCK
            self.settings.save(update_fields=["pending_payment_policy"])

    def build_order_submitted(self, cart, scenario):
        """Locked as pending; an admin saw the eCheck in the shop's PayPal account and confirmed
        the order; the shop's fulfilment service did not answer the export.

        The order stays *submitted* with the export error recorded ("submitted but not
        confirmed" in the daily e-mail, for good: nothing retries it by itself), until the admin
        uses *Retry export*, which then succeeds.
        """
        cart = self.checkout(cart, scenario)
        self.paypal_says(cart, scenario)
        outcome = lifecycle.confirm_order(cart, user=self.admin)
        self.drop_queued_exports([outcome.order.pk])
        failing = {**getattr(django_settings, "WAGTAIL_LOCKEDCARTS", {}), "ORDER_EXPORTER": FAILING_EXPORTER}
        with override_settings(WAGTAIL_LOCKEDCARTS=failing):
            try:
                lifecycle.export_order(outcome.order.pk)
            except ConnectionError:
                pass

    def build_order_exported(self, cart, scenario):
        """Paid and captured at once; the export ran and was acknowledged."""
        cart = self.checkout(cart, scenario)
        outcome = self.paypal_says(cart, scenario)
        lifecycle.export_order(outcome.order.pk)
        self.drop_queued_exports([outcome.order.pk])

    def build_order_reversed(self, cart, scenario):
        """Paid, ordered and exported; days later the payer's bank reversed the payment (a
        chargeback). PayPal's answer moves the order to *payment reversed*, listed in the daily
        e-mail and on the dashboard as reversed after export: the goods may have left."""
        cart = self.checkout(cart, scenario, capture_status="COMPLETED", capture_reason="")
        outcome = self.paypal_says(cart, scenario)
        lifecycle.export_order(outcome.order.pk)
        self.drop_queued_exports([outcome.order.pk])
        SandboxOrder.objects.filter(pk=scenario.paypal_order_id).update(
            capture_status=scenario.paypal["capture_status"], capture_reason=scenario.paypal["capture_reason"]
        )
        self.paypal_says(cart, scenario)

    def build_unmatched_payment(self, cart, scenario):
        """Locked as a pending eCheck; an admin deleted the cart, acknowledging the amount PayPal
        still held; then the eCheck cleared. PayPal holds money no order accounts for: an
        *unmatched payment*, until an admin resolves it (order from the paid snapshot, or refund)."""
        cart = self.checkout(cart, scenario, capture_status="PENDING", capture_reason="ECHECK")
        self.paypal_says(cart, scenario)
        lifecycle.delete_cart(cart, user=self.admin, acknowledge_payment=True)
        seeding.settle(scenario.paypal_order_id)
        order = seeding.representation(scenario.paypal_order_id, self.api_base)
        lifecycle.apply_payment_result(None, payment_result_from_order(order))

    def drop_queued_exports(self, order_ids):
        """Remove export tasks for these orders from django-q2's ORM queue (the demo's broker)."""
        from django_q.conf import Conf
        from django_q.models import OrmQ

        if Conf.SYNC or not Conf.ORM:
            return
        for queued in OrmQ.objects.using(Conf.ORM).all():
            task = queued.task
            if task.get("func") == "wagtail_lockedcarts.background.tasks.export_order" and tuple(
                task.get("args") or ()
            )[:1] in {(pk,) for pk in order_ids}:
                queued.delete()

    # ----------------------------------------------------------------------------------------
    # timestamps

    def backdate(self, cart, scenario):
        """Move the scenario's timestamps (only those) back to when its steps "happened"."""
        at = {step: self.now - timedelta(hours=hours) for step, hours in scenario.ages.items()}
        if not Cart.objects.filter(pk=cart.pk).exists():  # deleted in its story: its payment remains
            PaymentAttempt.objects.filter(paypal_order_id=scenario.paypal_order_id).update(
                created_at=at["checkout"], updated_at=at.get("settled") or at["deleted"]
            )
            self._backdate_history(Cart, cart.pk, at)
            return
        cart.refresh_from_db()
        latest = min(scenario.ages.values())
        cart_times = {"created_at": at["created"], "updated_at": self.now - timedelta(hours=latest)}
        if "checkout" in at and cart.checkout_started_at:
            cart_times["checkout_started_at"] = at["checkout"]
        if "locked" in at and cart.locked_at:
            cart_times["locked_at"] = at["locked"]
        Cart.objects.filter(pk=cart.pk).update(**cart_times)
        if "checkout" in at:
            PaymentAttempt.objects.filter(cart=cart).update(
                created_at=at["checkout"], updated_at=at.get("locked") or at.get("ordered") or at["checkout"]
            )
        order = Order.objects.filter(cart=cart).first()
        if order is not None:
            order_times = {"created_at": at["ordered"]}
            if order.submitted_at:
                order_times["submitted_at"] = at["ordered"]
            if order.exported_at:
                order_times["exported_at"] = at["exported"]
            if order.payment_problem_at and "reversed" in at:
                order_times["payment_problem_at"] = at["reversed"]
            Order.objects.filter(pk=order.pk).update(**order_times)
        self._backdate_history(Cart, cart.pk, at)
        if order is not None:
            self._backdate_history(Order, order.pk, at)

    def _backdate_history(self, model, pk, at):
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        for entry in ModelLogEntry.objects.filter(content_type=content_type, object_id=str(pk)):
            step = LOG_STEP.get(entry.action)
            if step in at:
                ModelLogEntry.objects.filter(pk=entry.pk).update(timestamp=at[step])
