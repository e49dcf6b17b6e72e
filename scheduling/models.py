"""Who sees patients where and when: providers, rooms, hours, exceptions, appointment types and appointments.

Times are stored aware (UTC in the database) and shown in the office's time zone.
An appointment occupies the calendar from `starts_at` to `blocks_until` (its end
plus the type's buffer), half-open: back-to-back appointments do not overlap.

The no-double-booking guarantee lives in the database: on PostgreSQL, exclusion
constraints added by migration 0002 (named by the `*_OVERLAP_CONSTRAINT` constants); on SQLite, the
services' IMMEDIATE transactions re-check overlaps before writing.
"""

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import Patient
from website.models import Office, Practice, Weekday

# Names of the PostgreSQL exclusion constraints (migration 0002); services translate
# a violation of any of them into a typed booking error.
PROVIDER_OVERLAP_CONSTRAINT = "appointment_provider_no_overlap"
ROOM_OVERLAP_CONSTRAINT = "appointment_room_no_overlap"
PATIENT_OVERLAP_CONSTRAINT = "appointment_patient_no_overlap"


class RoomKind(models.TextChoices):
    """What a room is equipped for; an appointment type may need a room of one kind."""

    PROCEDURE = "procedure", _("Procedure room")
    EXAM = "exam", _("Exam room")


class Provider(models.Model):
    """A clinician of the practice: the one record the calendar, a signed record and the public site name.

    `name` is how patients see them everywhere ("Dr. Dana Lee"). A provider usually has a
    staff sign-in (`user`), whose role matches `kind`; one without (a locum, the demo) has
    just a name. With `is_public`, the website shows them on the pages of the offices
    where they keep hours, with their credentials and biography.
    """

    class Kind(models.TextChoices):
        PHYSICIAN = "physician", _("Physician")
        PHYSICIAN_ASSISTANT = "pa", _("Physician assistant")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provider",
        help_text="The staff login of this provider, if any.",
    )
    name = models.CharField(max_length=120, help_text="As patients see it, e.g. 'Dr. Dana Lee'.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PHYSICIAN)
    color = models.CharField(max_length=7, default="#2f6f9f", help_text="Calendar colour, as #rrggbb.")
    is_active = models.BooleanField(default=True)
    is_public = models.BooleanField(default=False, help_text="Shown on the website's office pages.")
    credentials = models.CharField(max_length=60, blank=True, help_text="e.g. MD, board-certified in ...")
    bio_en = models.TextField(blank=True)
    bio_es = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Order on the website.")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The sign-in's role says what the person may do; it must be the role of this kind of clinician.
        from accounts.models import Role

        expected = {
            self.Kind.PHYSICIAN.value: Role.PHYSICIAN,
            self.Kind.PHYSICIAN_ASSISTANT.value: Role.PHYSICIAN_ASSISTANT,
        }
        if self.user is not None and self.user.role != expected.get(str(self.kind)):
            raise ValidationError(
                {"user": _("This sign-in's role is not %(kind)s.") % {"kind": self.get_kind_display().lower()}}
            )

    @property
    def public_name(self) -> str:
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    @property
    def bio(self) -> str:
        return (self.bio_es if get_language() == "es" else self.bio_en) or self.bio_en


class Room(models.Model):
    """A room of an office that some appointments need, with its own calendar."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80, help_text="e.g. 'Procedure room'.")
    kind = models.CharField(max_length=20, choices=RoomKind.choices, default=RoomKind.PROCEDURE)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["office", "name"]
        constraints = [models.UniqueConstraint(fields=["office", "name"], name="room_name_unique_per_office")]

    def __str__(self) -> str:
        return f"{self.name} ({self.office})"


class WorkingHours(models.Model):
    """When a provider sees patients at one office on one weekday, in the office's local time.

    A provider may work at Los Angeles on Mondays and at Encino on Tuesdays, or at both
    on one day at different hours; never two places at once.
    """

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="working_hours")
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="provider_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "starts"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="working_hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} at {self.office}, {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M}"

    def clean(self) -> None:
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ValidationError({"ends": _("The end must be after the start.")})
        if self.provider_id is None or self.weekday is None or self.starts is None or self.ends is None:
            return
        # Each office keeps its own clock: the hours are compared as moments, in a winter and a
        # summer week (daylight saving starts and ends on different dates in different zones),
        # with the neighbouring weeks too, so a late evening in one zone meets the next morning in another.
        if self.office_id is None:
            return
        mine = [self._moments(week) for week in REFERENCE_WEEKS]
        for other in (
            WorkingHours.objects.filter(provider_id=self.provider_id).exclude(pk=self.pk).select_related("office")
        ):
            for (starts, ends), week in zip(mine, REFERENCE_WEEKS, strict=True):
                for shift in (-7, 0, 7):
                    other_starts, other_ends = other._moments(week + timedelta(days=shift))
                    if other_starts < ends and starts < other_ends:
                        raise ValidationError(
                            _("These hours overlap the provider's hours at %(office)s, %(starts)s-%(ends)s.")
                            % {
                                "office": other.office,
                                "starts": f"{other.starts:%H:%M}",
                                "ends": f"{other.ends:%H:%M}",
                            }
                        )

    def _moments(self, monday: date) -> tuple[datetime, datetime]:
        """These hours in the week starting `monday`, as aware moments in the office's zone."""
        zone = ZoneInfo(self.office.time_zone)
        day = monday + timedelta(days=self.weekday)
        return datetime.combine(day, self.starts, tzinfo=zone), datetime.combine(day, self.ends, tzinfo=zone)


# A winter and a summer week (each a Monday), to compare weekly hours across time zones.
REFERENCE_WEEKS = (date(2001, 1, 8), date(2001, 7, 9))


class ScheduleException(models.Model):
    """A dated period when someone or something is not available.

    With a provider: that provider is away (time off). With a room: that room is out of
    use. With an office only: the whole office is closed. With none of the three: the
    whole practice is closed (a holiday).
    """

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", _("Time off")
        HOLIDAY = "holiday", _("Holiday")
        CLOSURE = "closure", _("Closure")

    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.CASCADE, related_name="closures")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.CASCADE, related_name="closures")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TIME_OFF)
    reason = models.CharField(max_length=200, blank=True, help_text="Seen by staff only.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="schedule_exception_end_after_start"
            )
        ]

    def __str__(self) -> str:
        who = self.provider or self.room or self.office or "Whole practice"
        return f"{who}: {self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})


class AppointmentType(models.Model):
    """A kind of visit: how long it takes, the quiet time after it, who may book it, what room it needs."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(unique=True)
    duration_minutes = models.PositiveSmallIntegerField()
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time kept free after the visit (cleaning, notes); patients do not see it."
    )
    bookable_online = models.BooleanField(default=False, help_text="Patients may book it from the website.")
    room_kind = models.CharField(
        max_length=20, choices=RoomKind.choices, blank=True, help_text="The kind of room it needs, if any."
    )
    color = models.CharField(max_length=7, default="#6b7280", help_text="Calendar colour, as #rrggbb.")
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_minutes__gt=0), name="appointment_type_has_duration")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def occupies(self) -> timedelta:
        """How long one appointment of this type keeps its provider and room busy."""
        return timedelta(minutes=self.duration_minutes + self.buffer_after_minutes)


class BookingRules(models.Model):
    """The practice's booking rules (one row). Without a row, the defaults below apply."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="booking_rules")
    min_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Patients booking online cannot book sooner than this."
    )
    horizon_days = models.PositiveSmallIntegerField(default=90, help_text="Nor further ahead than this.")
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Patients cannot cancel or move an appointment online closer to it than this."
    )
    slot_step_minutes = models.PositiveSmallIntegerField(default=15, help_text="Offered times start on this grid.")
    reminder_hours = models.CharField(
        max_length=60,
        default="48,2",
        blank=True,
        help_text="When reminder emails go out, in whole hours before the appointment, separated by commas "
        "(e.g. '48,2': two days and two hours before). Empty: no reminders.",
    )
    reminder_grace_minutes = models.PositiveSmallIntegerField(
        default=60,
        help_text="A reminder that could not go out at its time (worker stopped, mail server down) is still "
        "sent up to this long after; later, it is skipped rather than sent at a misleading moment.",
    )

    class Meta:
        verbose_name = "booking rules"
        verbose_name_plural = "booking rules"
        constraints = [
            models.CheckConstraint(condition=models.Q(slot_step_minutes__gt=0), name="booking_rules_step_positive")
        ]

    def __str__(self) -> str:
        return f"Booking rules of {self.practice}"

    def clean(self) -> None:
        try:
            hours = parse_reminder_hours(self.reminder_hours)
        except ValidationError as error:
            raise ValidationError({"reminder_hours": error.messages}) from None
        # Stored in one spelling (largest first), so the admin shows what the worker reads.
        self.reminder_hours = ",".join(str(hour) for hour in hours)

    @classmethod
    def current(cls) -> "BookingRules":
        """The practice's rules (one query), or an unsaved row holding the defaults."""
        return cls.objects.first() or cls()

    @property
    def min_notice(self) -> timedelta:
        return timedelta(hours=self.min_notice_hours)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)

    @property
    def cancel_cutoff(self) -> timedelta:
        return timedelta(hours=self.cancel_cutoff_hours)

    @property
    def reminder_offsets(self) -> list[timedelta]:
        """How long before an appointment each reminder is due, largest first; unreadable text gives none."""
        try:
            return [timedelta(hours=hour) for hour in parse_reminder_hours(self.reminder_hours)]
        except ValidationError:
            return []

    @property
    def reminder_grace(self) -> timedelta:
        return timedelta(minutes=self.reminder_grace_minutes)


# Reminders further ahead than the longest booking horizon would never be due.
MAX_REMINDER_HOURS = 24 * 90


def parse_reminder_hours(text: str) -> list[int]:
    """'48, 2' -> [48, 2]: whole hours before an appointment, largest first, each once.

    Raises a ValidationError written for the staff member who typed `text`.
    """
    hours: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= MAX_REMINDER_HOURS:
            raise ValidationError(
                _("“%(value)s” is not a number of hours from 1 to %(max)s. Write whole hours separated by commas.")
                % {"value": part, "max": MAX_REMINDER_HOURS}
            )
        if int(part) in hours:
            raise ValidationError(_("%(value)s hours is listed twice.") % {"value": part})
        hours.append(int(part))
    return sorted(hours, reverse=True)


class AreaOfConcern(models.TextChoices):
    """What the patient comes about: the conditions on the therapy pages, or something else."""

    OSTEOARTHRITIS = "osteoarthritis", _("Osteoarthritis (hips, knees)")
    TENDON_INJURY = "tendon_injury", _("Tendon injury")
    ROTATOR_CUFF = "rotator_cuff", _("Partial rotator cuff tear")
    BACK_PAIN = "back_pain", _("Back pain from worn discs or facet joints")
    KNEE_LIGAMENT = "knee_ligament", _("Knee ligament sprain or tear (MCL, ACL, PCL, LCL)")
    PATELLAR_TENDONITIS = "patellar_tendonitis", _("Patellar tendonitis")
    HAMSTRING = "hamstring", _("Hamstring tendinopathy")
    HAND_KNEE_FOOT_PAIN = "hand_knee_foot_pain", _("Pain in the hands, knees or feet")
    CARTILAGE = "cartilage", _("Cartilage damage")
    OTHER = "other", _("Something else")


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Appointments in these states occupy their provider, room and patient.
ACTIVE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)


class Appointment(models.Model):
    """One patient seen by one provider at one office, from `starts_at` to `ends_at`.

    `blocks_until` is `ends_at` plus the type's buffer: what the appointment actually
    occupies. Write through `scheduling.services`, which enforce the rules; the database
    refuses overlaps on PostgreSQL whatever the caller.
    """

    Status = AppointmentStatus

    class Source(models.TextChoices):
        ONLINE = "online", _("Online")
        STAFF = "staff", _("Staff")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocks_until = models.DateTimeField(help_text="The end plus the buffer after it.")
    status = models.CharField(max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    area_of_concern = models.CharField(max_length=30, choices=AreaOfConcern.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    override_reason = models.TextField(
        blank=True, help_text="Why a physician booked over another appointment (required to do so)."
    )
    # Set by the booking service to its own clock (`now`), which every rule of one booking reads.
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at", "provider_id"]
        indexes = [
            models.Index(fields=["provider", "starts_at"]),
            models.Index(fields=["room", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["office", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_has_length"
            ),
            models.CheckConstraint(
                condition=models.Q(blocks_until__gte=models.F("ends_at")), name="appointment_blocks_through_its_end"
            ),
        ]

    def __str__(self) -> str:
        local = self.starts_at.astimezone(ZoneInfo(self.office.time_zone))
        return f"{self.appointment_type} with {self.provider}, {local:%Y-%m-%d %H:%M} at {self.office}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        for name in ("starts_at", "ends_at", "blocks_until"):
            value: datetime | None = getattr(self, name)
            if value is not None and value.tzinfo is None:
                errors[name] = _("The time must carry a time zone.")
        if self.room is not None and self.office_id is not None and self.room.office_id != self.office_id:
            errors["room"] = _("The room is in another office.")
        if errors:
            raise ValidationError(errors)


class CallbackRequest(models.Model):
    """A request from the website to be called back when no offered time suits.

    It carries contact details and preferred times only, never health information.
    """

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="callback_requests")
    name = models.CharField(_("name"), max_length=120)
    phone = models.CharField(_("phone"), max_length=30)
    email = models.EmailField(_("email"), blank=True)
    preferred_times = models.CharField(_("preferred times"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled = models.BooleanField(default=False)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["handled", "-created_at"]
        indexes = [models.Index(fields=["handled", "created_at"])]

    def __str__(self) -> str:
        return f"Call back {self.name} ({self.office}) {self.created_at:%Y-%m-%d %H:%M}"


class Reminder(models.Model):
    """One reminder of one appointment, for one offset and one start time: the claim that queues it once.

    A worker inserts the row and queues the email in the outbox in one transaction; the
    unique constraint lets exactly one of several workers do so. Whether and when the
    email went out is the outbox's record (`email`). `starts_at` is the appointment's
    start the reminder is about, so a moved appointment gets fresh rows and the old
    ones' emails are withdrawn. A reminder claimed too late to be useful is recorded
    SKIPPED, so none is silently lost.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued in the outbox")
        SKIPPED = "skipped", _("Skipped")

    class SkipReason(models.TextChoices):
        TOO_LATE = "too_late", _("Its time passed longer ago than the grace window")

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    offset_minutes = models.PositiveIntegerField(help_text="How long before the appointment it is due.")
    starts_at = models.DateTimeField(help_text="The appointment's start this reminder is about.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices)
    skip_reason = models.CharField(max_length=10, choices=SkipReason.choices, blank=True)
    claimed_at = models.DateTimeField(help_text="When a worker claimed it.")
    email = models.OneToOneField(
        "outbox.Email", null=True, blank=True, on_delete=models.PROTECT, related_name="reminder"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "offset_minutes", "starts_at"], name="reminder_once_per_offset_and_start"
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} ({self.get_status_display()}), due {self.due_at:%Y-%m-%d %H:%M} UTC"
