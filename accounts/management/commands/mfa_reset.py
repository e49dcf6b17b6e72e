"""`manage.py mfa_reset USERNAME`: remove a member of staff's authenticator, passkeys and recovery codes (a lost phone).

They set up a new authenticator at their next sign-in, after their password. The
removal leaves an audit row (role "command line": a command has no user). Check who is
asking before running it: whoever knows the password can then set up the new one.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import mfa
from accounts.models import User


class Command(BaseCommand):
    help = "Remove a staff member's authenticator app, passkeys and recovery codes; they set up a new app at sign-in."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No staff account is named {options['username']}.")
        mfa.reset(user, by=None, role="command line")
        self.stdout.write(
            f"{user.username}'s authenticator, passkeys and recovery codes are removed: "
            "they set up a new authenticator at sign-in."
        )
