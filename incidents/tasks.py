"""Celery tasks of the incidents domain. Each calls one service and owns only its retries."""

from celery import shared_task

from incidents import services


@shared_task(ignore_result=True, acks_late=True, time_limit=600)
def anonymise_expired_incidents() -> int:
    """Anonymise closed incidents past the retention period (a batch per run; idempotent)."""
    return services.incidents_anonymise_expired()
