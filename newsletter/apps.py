from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "newsletter"

    def ready(self) -> None:
        from anymail.signals import tracking

        from newsletter.tasks import on_tracking

        tracking.connect(on_tracking, dispatch_uid="newsletter.tracking")
