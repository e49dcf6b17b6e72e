"""The scheduling fixtures (a small schedule with patients), for tests of the patients app."""

from scheduling.tests.conftest import schedule

__all__ = ["schedule"]
