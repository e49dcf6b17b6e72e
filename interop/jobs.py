"""Interop's job for the worker: clean up FHIR bulk exports left behind (`interop.bulk.bulk_sweep`)."""

from interop.bulk import bulk_sweep
from outbox.jobs import job


@job("interop_bulk_sweep")
def sweep_bulk_exports() -> dict[str, int]:
    return bulk_sweep()
