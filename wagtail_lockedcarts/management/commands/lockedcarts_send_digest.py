"""Send the daily notification e-mail now: what the hourly task does, for cron-only sites and operators."""

from datetime import date as date_type

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from wagtail_lockedcarts.background.notifications import DeliveryStatus, send_daily_notification


class Command(BaseCommand):
    help = (
        "Send the daily notification e-mail for every site (or --site) whose hour has come and whose "
        "e-mail for the day was not sent yet. Safe to run every hour from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site", help="Site id or hostname (default: every site).")
        parser.add_argument("--date", help="Local date YYYY-MM-DD to send for (default: today).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the plain-text e-mail; claim and send nothing."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Send even before the site's hour, when already sent, or with nothing to report.",
        )

    def handle(self, *args, site=None, date=None, dry_run=False, force=False, **options):
        sites = self._sites(site)
        day = self._date(date)
        failed = False
        for one in sites:
            result = send_daily_notification(one, date=day, force=force, dry_run=dry_run)
            if dry_run:
                notification = result.notification
                self.stdout.write(f"To: {', '.join(result.recipients) or '(nobody)'}")
                self.stdout.write(f"Subject: {notification.subject}\n")
                self.stdout.write(notification.text)
                continue
            label = f"{one.hostname} (site {one.pk}), {result.date}: {result.status}"
            if result.status == DeliveryStatus.SENT:
                self.stdout.write(self.style.SUCCESS(f"{label} to {', '.join(result.recipients)}"))
            elif result.status == DeliveryStatus.FAILED:
                failed = True
                self.stderr.write(self.style.ERROR(f"{label}: {result.error}"))
            else:
                self.stdout.write(label)
        if failed:
            raise CommandError("At least one e-mail could not be sent; run the command again to retry it.")

    def _sites(self, value):
        if not value:
            return list(Site.objects.order_by("pk"))
        sites = Site.objects.filter(pk=int(value)) if value.isdigit() else Site.objects.filter(hostname=value)
        sites = list(sites)
        if not sites:
            raise CommandError(f"No site with id or hostname {value!r}.")
        return sites

    def _date(self, value):
        if not value:
            return None
        try:
            return date_type.fromisoformat(value)
        except ValueError:
            raise CommandError(f"--date must look like 2026-11-26, not {value!r}.") from None
