import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a first admin user if there is no superuser yet, and say how to log in."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username: str, email: str, **options) -> None:
        user_model = get_user_model()
        login_url = f"{settings.SITE_URL}/admin/"
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write(
                f"Admin: log in at {login_url} (reset a password: manage.py changepassword NAME)"
            )
            return
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Created admin user. Log in at {login_url} as {username} / {password}")
        )
