"""Sign-in lockout with a limit of its own for an address: django-axes' database handler, one count changed.

django-axes counts the recent failures for the username and those from the address
(AXES_LOCKOUT_PARAMETERS) and locks sign-in when either reaches one limit. The staff of
an office sign in from one address, so five mistyped passwords among them would lock the
whole office out for the cool-off. Here each count has its own limit: the account's is
AXES_FAILURE_LIMIT (5), the address's SIGN_IN_ADDRESS_FAILURE_LIMIT (20, which still
stops one address trying a password on many accounts). The address's count is put on the
account's scale before axes compares it, so axes' own lockout (its signal, which writes
the audit row), its messages and its unlock commands (`axes_reset_ip`) work unchanged.
"""

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class SeparateLimitsHandler(AxesDatabaseHandler):
    """AXES_HANDLER: the account's failures against its limit, the address's against the address's."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limit, address_limit = settings.AXES_FAILURE_LIMIT, settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
        found = 0
        # One query set per lockout parameter, in their order (axes' filter_user_attempts).
        counted = zip(settings.AXES_LOCKOUT_PARAMETERS, self.get_user_attempts(request, credentials), strict=True)
        for parameter, attempts in counted:
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            if parameter == "ip_address":
                # At address_limit failures this is the account's limit exactly (floor keeps it below before).
                failures = failures * limit // address_limit
            found = max(found, failures)
        return found
