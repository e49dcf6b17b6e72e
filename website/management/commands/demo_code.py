"""`manage.py demo_code USERNAME`: the code a demo account's authenticator app would show now.

The demo practice (`load_demo_practice`) gives each of its accounts an authenticator, so
the second step of sign-in can be tried without a phone. This prints its current code,
and only for a demo account: one whose authenticator is the demo's and whose password
is still the demo password. Any other account is refused.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from website.management.commands.load_demo_practice import DEMO_AUTHENTICATOR, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the current second-step code of a demo account (make demo-code WHO=drlee)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        device = TOTPDevice.objects.filter(user=user, name=DEMO_AUTHENTICATOR, confirmed=True).first() if user else None
        if user is None or device is None or not user.check_password(DEMO_PASSWORD):
            raise CommandError(
                f"{options['username']} is not a demo account: only the demo's accounts have a code here."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
