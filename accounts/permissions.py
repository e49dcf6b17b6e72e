"""Which staff pages each role may open: one place, read by the views and the staff bar."""

from typing import Any

from accounts.models import Role

INBOX_ROLES = frozenset({Role.FRONT_DESK, Role.MANAGER})
CALENDAR_ROLES = frozenset({Role.FRONT_DESK, Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.MANAGER})


def can_read_inbox(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or getattr(user, "role", None) in INBOX_ROLES))


def can_use_calendar(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or getattr(user, "role", None) in CALENDAR_ROLES))


def staff_links(request: Any) -> dict[str, Any]:
    """Context processor: what the signed-in person's staff bar offers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"staff_can": {"inbox": can_read_inbox(user), "calendar": can_use_calendar(user)}}
