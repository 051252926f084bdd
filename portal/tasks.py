from celery import shared_task

from portal import services


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Record that a worker is alive. Idempotent: it only moves a timestamp forward."""
    services.worker_heartbeat_record(name=name)


@shared_task(
    ignore_result=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def notification_email(notification_id: int) -> None:
    """E-mail one notification. Running it twice sends one e-mail (the row is marked sent)."""
    services.notification_email_send(notification_id=notification_id)
