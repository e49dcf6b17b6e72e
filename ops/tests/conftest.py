"""The scheduling fixtures (a small schedule with patients), for the crash drill's check."""

from scheduling.tests.conftest import schedule

__all__ = ["schedule"]
