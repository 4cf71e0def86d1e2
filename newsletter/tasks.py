from celery import shared_task

from newsletter.heartbeat import record_heartbeat


@shared_task(ignore_result=True)
def heartbeat_task(source: str = "worker") -> None:
    record_heartbeat(source)
