import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_a_first_admin_and_prints_how_to_log_in(capsys):
    call_command("ensure_admin")
    out = capsys.readouterr().out
    admin = User.objects.get(username="admin")
    password = out.strip().rsplit(" / ", 1)[1]
    assert admin.is_superuser and admin.check_password(password)
    assert "/admin/ as admin / " in out


def test_it_leaves_an_existing_admin_alone(capsys):
    User.objects.create_superuser("curator", "c@example.test", "pw")
    call_command("ensure_admin")
    assert User.objects.count() == 1
    assert "changepassword" in capsys.readouterr().out
