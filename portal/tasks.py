from celery import shared_task

from portal import services


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    """Record that a worker is alive. Idempotent: it only moves a timestamp forward."""
    services.worker_heartbeat_record(name=name)
