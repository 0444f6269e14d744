from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyNotificationRun(models.Model):
    """A claim that one site's daily notification for one local date is being or was sent."""

    site = models.ForeignKey("wagtailcore.Site", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(_("date"))
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients = models.PositiveIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("daily notification")
        verbose_name_plural = _("daily notifications")
        constraints = [models.UniqueConstraint(fields=["site", "date"], name="lockedcarts_daily_notification_once")]

    def __str__(self):
        return f"{self.site_id} {self.date}"
