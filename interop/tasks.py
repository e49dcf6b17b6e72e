"""Interop's task, run by the worker (django-tasks with the database backend)."""

from django_tasks import task

from interop.bulk import bulk_run


@task()
def bulk_export_run(export_id: int) -> str:
    """Write one FHIR bulk export (the row's id only: a task's arguments are stored, and carry nothing personal)."""
    return bulk_run(export_id=export_id)
