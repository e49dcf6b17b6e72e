"""The scheduling fixtures (a small schedule with patients), for tests of the worker and the outbox."""

from scheduling.tests.conftest import schedule

__all__ = ["schedule"]
