from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookTransmission(models.Model):
    """A webhook transmission id already accepted, so the same signed headers cannot be replayed.

    PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(body)`` and not the event
    id, so deduplicating on the event id alone lets a captured delivery be replayed with another
    body whose CRC32 was forced to match. Rows older than the accepted transmission-time window
    are useless (such a delivery is refused for its age) and are pruned as new ones arrive.
    """

    transmission_id = models.CharField(max_length=128, unique=True)
    transmission_time = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("webhook transmission")
        verbose_name_plural = _("webhook transmissions")

    def __str__(self):
        return self.transmission_id
