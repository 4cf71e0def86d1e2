import smtplib

from celery import shared_task
from django.utils import timezone

from subscribers.mailer import send_subscriber_email
from subscribers.models import Subscriber
from subscribers.reader_model import retrain
from subscribers.status import resume_due_pauses


@shared_task(
    name="subscribers.tasks.send_subscriber_email_task",
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=6,
)
def send_subscriber_email_task(subscriber_id: int, kind: str) -> None:
    send_subscriber_email(subscriber_id, kind)


@shared_task(name="subscribers.tasks.resume_paused_subscriptions_task", ignore_result=True)
def resume_paused_subscriptions_task() -> None:
    resume_due_pauses(timezone.localdate())


@shared_task(name="subscribers.tasks.train_reader_task", ignore_result=True)
def train_reader_task(subscriber_id: int) -> None:
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is not None:  # erased meanwhile
        retrain(subscriber)
