"""The outbox's task, run by the worker (django-tasks with the database backend)."""

from django_tasks import task

from outbox.services import email_deliver


@task()
def deliver_email(email_id: int) -> str:
    """Deliver one outbox email (the row's id only: a task's arguments are stored, and carry nothing personal)."""
    return email_deliver(email_id=email_id)
