"""Run the checkout sweep now: what the scheduled task does, for cron-only sites and operators."""

from django.core.management.base import BaseCommand, CommandError

from wagtail_lockedcarts.background.sweeps import sweep_checkouts


class Command(BaseCommand):
    help = (
        "Reconcile checkouts that outlived their site's timeout with PayPal and lock (no_return) "
        "those PayPal cannot settle; re-queue exports that never started."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-paypal", action="store_true", help="Do not ask PayPal; lock every stale checkout.")
        parser.add_argument("--batch-size", type=int, help="Carts per batch (default: SWEEP_BATCH_SIZE).")
        parser.add_argument("--no-exports", action="store_true", help="Do not re-queue lost exports.")

    def handle(self, *args, no_paypal=False, batch_size=None, no_exports=False, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = sweep_checkouts(use_paypal=not no_paypal, batch_size=batch_size, requeue_exports=not no_exports)
        self.stdout.write(str(report))
        for error in report.errors:
            self.stderr.write(error)
