"""Load the demo schedule on top of the demo practice: providers, hours, rooms, visit types, rules. Idempotent."""

from datetime import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from scheduling.models import AppointmentType, BookingRules, Provider, Room, RoomKind, Weekday, WorkingHours
from website.models import Office, Practice

DAY_HOURS = (time(8, 30), time(17))
# (slug, name, minutes, buffer after, bookable online, room kind, colour)
APPOINTMENT_TYPES = [
    ("new-patient-consultation", "New-patient consultation", 45, 15, True, "", "#2f6f9f"),
    ("procedure-visit", "Procedure visit", 150, 30, False, RoomKind.PROCEDURE, "#9f2f4f"),
    ("follow-up", "Follow-up", 20, 0, False, "", "#3f8f5f"),
    ("prp-visit", "PRP-only visit", 45, 0, False, "", "#8f6f2f"),
]


class Command(BaseCommand):
    help = "Create the demo schedule (run after load_demo_practice). Leaves existing records alone."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.first()
        offices = {office.slug: office for office in Office.objects.filter(slug__in=["los-angeles", "encino"])}
        if practice is None or len(offices) != 2:
            raise CommandError("The demo practice is missing: run `manage.py load_demo_practice` first.")
        la, encino = offices["los-angeles"], offices["encino"]

        physician, physician_added = self._physician()
        pa, pa_added = Provider.objects.get_or_create(
            name="Pat Kim, PA-C (example)", defaults={"kind": Provider.Kind.PHYSICIAN_ASSISTANT, "color": "#6f3f9f"}
        )
        week = {
            physician: [
                (la, Weekday.MONDAY),
                (encino, Weekday.TUESDAY),
                (la, Weekday.WEDNESDAY),
                (encino, Weekday.THURSDAY),
                (la, Weekday.FRIDAY),
            ],
            pa: [(encino, Weekday.MONDAY), (la, Weekday.TUESDAY), (encino, Weekday.WEDNESDAY), (la, Weekday.THURSDAY)],
        }
        hours_added = 0
        for provider, days in week.items():
            for office, weekday in days:
                if not WorkingHours.objects.filter(provider=provider, weekday=weekday).exists():
                    block = WorkingHours(
                        provider=provider, office=office, weekday=weekday, starts=DAY_HOURS[0], ends=DAY_HOURS[1]
                    )
                    block.full_clean()
                    block.save()
                    hours_added += 1
        rooms_added = sum(
            Room.objects.get_or_create(office=office, name="Procedure room", defaults={"kind": RoomKind.PROCEDURE})[1]
            for office in (la, encino)
        )
        types_added = 0
        for order, (slug, name, minutes, buffer, online, room_kind, color) in enumerate(APPOINTMENT_TYPES):
            types_added += AppointmentType.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "duration_minutes": minutes,
                    "buffer_after_minutes": buffer,
                    "bookable_online": online,
                    "room_kind": room_kind,
                    "color": color,
                    "order": order,
                },
            )[1]
        _, rules_added = BookingRules.objects.get_or_create(
            practice=practice,
            defaults={"min_notice_hours": 24, "horizon_days": 90, "cancel_cutoff_hours": 24, "slot_step_minutes": 15},
        )
        self.stdout.write(
            f"load_demo_schedule: {int(physician_added) + int(pa_added)} provider(s), {hours_added} block(s) of hours, "
            f"{rooms_added} room(s), {types_added} appointment type(s), {int(rules_added)} set of booking rules added"
        )

    def _physician(self) -> tuple[Provider, bool]:
        """Dr. Lee: linked to the demo login `drlee` when there is one."""
        user = User.objects.filter(username="drlee").first()
        if user is None:
            return Provider.objects.get_or_create(name="Dr. Dana Lee (example)", user=None)
        provider = Provider.objects.filter(user=user).first()
        if provider is not None:
            return provider, False
        # The demo may have run before the login existed: link the standalone provider.
        provider = Provider.objects.filter(name="Dr. Dana Lee (example)", user=None).first()
        if provider is not None:
            provider.user = user
            provider.save(update_fields=["user"])
            return provider, False
        return Provider.objects.create(name="Dr. Dana Lee (example)", user=user), True
