import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    """The daily e-mail has one name, "daily notification" (it was also "digest" in code)."""

    dependencies = [
        ("wagtail_lockedcarts", "0003_webhook_transmissions"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="digestrun", name="lockedcarts_digest_once"),
        migrations.RenameModel(old_name="DigestRun", new_name="DailyNotificationRun"),
        migrations.AddConstraint(
            model_name="dailynotificationrun",
            constraint=models.UniqueConstraint(fields=("site", "date"), name="lockedcarts_daily_notification_once"),
        ),
        migrations.RenameField(model_name="lockedcartsettings", old_name="digest_hour", new_name="notification_hour"),
        migrations.AlterField(
            model_name="lockedcartsettings",
            name="email_system_messages",
            field=models.BooleanField(
                default=False,
                help_text="Send a daily notification e-mail listing locked carts and orders that need attention.",
                verbose_name="Email System Messages",
            ),
        ),
        migrations.AlterField(
            model_name="lockedcartsettings",
            name="notification_hour",
            field=models.PositiveSmallIntegerField(
                default=8,
                help_text="Local time (the site's TIME_ZONE), 0–23.",
                validators=[django.core.validators.MaxValueValidator(23)],
                verbose_name="hour of the daily notification",
            ),
        ),
    ]
