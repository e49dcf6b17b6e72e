"""Outcomes' job for the worker: open follow-up windows, send the invitations and reminders due, record misses."""

from outbox.jobs import job
from outcomes.invitations import follow_ups_advance


@job("outcomes_invitations")
def outcomes_invitations() -> dict[str, int]:
    return follow_ups_advance().counts()
