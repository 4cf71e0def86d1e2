"""A scenario's failure names how each duplicate came in: two copies of one server queue id are
the server delivering one message twice, two ids two SMTP transactions (the first `make
reliability` duplicate, under Postfix stopped mid-send, could not be told apart afterwards)."""

from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from newsletter.models import Delivery
from tests.newsletter.personas import a_day_of_papers, reader, released_edition
from tests.reliability.harness import how_they_came

pytestmark = pytest.mark.django_db


def copy(to: str, queue_id: str) -> EmailMessage:
    message = EmailMessage()
    message["To"], message["Message-ID"] = to, "<digest-1@paperboy.test>"
    message["Received"] = f"from localhost by mail.test (Postfix) with ESMTP id {queue_id}"
    return message


def test_a_duplicate_is_reported_with_its_row_and_each_copys_queue_id():
    a_day_of_papers()
    edition = released_edition()
    row = Delivery.objects.create(
        subscriber=reader("twice@example.test"), edition=edition, status=Delivery.Status.SENT, attempts=1
    )
    inbox = SimpleNamespace(messages=[copy("twice@example.test", "4AAA"), copy("other@example.test", "4CCC"),
                                      copy("twice@example.test", "4BBB")])  # fmt: skip
    report = how_they_came(inbox, ["twice@example.test"]).splitlines()
    assert report == [
        f"twice@example.test: row {row.pk} sent, attempts 1, ''",
        "  copy <digest-1@paperboy.test> received from localhost by mail.test (Postfix) with ESMTP id 4AAA",
        "  copy <digest-1@paperboy.test> received from localhost by mail.test (Postfix) with ESMTP id 4BBB",
    ]
