"""Outcomes: which questionnaires each indication uses, the follow-up schedule, invitations, answers and scores.

An instrument is data plus a scoring function (`outcomes.instruments`); here it is
named by its code. When a procedure is signed, its episode gets a `FollowUp` per time
point (baseline before treatment, then 6 weeks, 3, 6, 12 and 24 months), each with a
window (`outcomes.schedule`). The patient is invited by email when a window opens,
reminded twice, then put on the front desk's call list; a window that closes unanswered
is recorded missed and never filled later. Each `Response` is one instrument answered
at one follow-up; its `Score` rows are computed, never typed, and record the scoring
version that produced them (`manage.py rescore` recomputes).
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from patients.models import BodySite, Indication


class Timepoint(models.TextChoices):
    BASELINE = "baseline", _("Before treatment")
    WEEK_6 = "6w", _("6 weeks")
    MONTH_3 = "3m", _("3 months")
    MONTH_6 = "6m", _("6 months")
    MONTH_12 = "12m", _("12 months")
    MONTH_24 = "24m", _("24 months")


class InstrumentSet(models.Model):
    """One instrument an indication's episodes answer (staff edit the sets in the admin).

    A row with a `site` applies to episodes on that body site only (osteoarthritis of the
    knee answers KOOS, of the hip HOOS); a row without one applies whatever the site.
    """

    indication = models.CharField(max_length=30, choices=Indication.choices)
    site = models.CharField(
        max_length=20, choices=BodySite.choices, blank=True, help_text="Blank: every site of this indication."
    )
    instrument = models.CharField(max_length=20, help_text="An instrument code, e.g. KOOS, NRS, SANE, PGIC.")
    after_treatment_only = models.BooleanField(
        default=False, help_text="Asked at follow-ups only, not at baseline (e.g. PGIC: change since treatment)."
    )
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["indication", "site", "order", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["indication", "site", "instrument"], name="instrument_set_once_per_indication_site"
            )
        ]

    def __str__(self) -> str:
        where = f" ({self.get_site_display()})" if self.site else ""
        return f"{self.get_indication_display()}{where}: {self.instrument}"


class FollowUp(models.Model):
    """One time point of one episode: when it is due, its window, and whether it was answered."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Open: waiting for answers")
        COMPLETED = "completed", _("Answered")
        MISSED = "missed", _("Missed: the window closed unanswered")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="follow_ups")
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    target_date = models.DateField()
    opens_on = models.DateField()
    closes_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    completed_at = models.DateTimeField(null=True, blank=True)
    # After treatment the patient is also asked whether the treated site has had surgery since.
    surgery_reported = models.BooleanField(null=True, blank=True)
    schedule_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["episode", "target_date"]
        indexes = [
            models.Index(fields=["status", "opens_on"]),
            models.Index(fields=["status", "closes_on"]),
            # The dashboard's survival reads each episode's last answered follow-up from this index alone.
            models.Index(fields=["episode", "status", "timepoint", "completed_at"], name="follow_up_last_answered"),
        ]
        constraints = [models.UniqueConstraint(fields=["episode", "timepoint"], name="follow_up_once_per_timepoint")]

    def __str__(self) -> str:
        return f"{self.get_timepoint_display()} follow-up {self.uuid}"


class Invitation(models.Model):
    """One email asking the patient to answer a follow-up: the invitation or one of two reminders.

    The claim that sends it once: a worker inserts the row (unique per follow-up and kind)
    and queues the email in the outbox in one transaction.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER_1 = "reminder_1", _("First reminder")
        REMINDER_2 = "reminder_2", _("Second reminder")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued in the outbox")
        SKIPPED = "skipped", _("Skipped")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="invitations")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    skip_reason = models.CharField(max_length=100, blank=True)
    email = models.OneToOneField(
        "outbox.Email", null=True, blank=True, on_delete=models.PROTECT, related_name="invitation"
    )
    link = models.ForeignKey("accounts.PatientLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField()

    class Meta:
        ordering = ["follow_up", "claimed_at"]
        constraints = [models.UniqueConstraint(fields=["follow_up", "kind"], name="invitation_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.follow_up_id}"


class FollowUpCall(models.Model):
    """The front desk phoned about a follow-up (the patient did not answer the emails)."""

    class Outcome(models.TextChoices):
        ANSWERED_BY_PHONE = "answered", _("Answered by phone")
        CALL_BACK = "call_back", _("Asked to be called again")
        NO_ANSWER = "no_answer", _("No answer / message left")
        DECLINED = "declined", _("Declined")

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="calls")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    called_at = models.DateTimeField()
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-called_at"]

    def __str__(self) -> str:
        return f"Call about {self.follow_up_id}: {self.get_outcome_display()}"


class Response(models.Model):
    """One instrument answered at one follow-up: the answers by item code, as the patient gave them."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("Online, by the patient")
        PHONE = "phone", _("By phone, entered by staff")
        PAPER = "paper", _("On paper, entered by staff")

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        SUBMITTED = "submitted", _("Submitted")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="responses")
    instrument = models.CharField(max_length=20)
    answers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=2, default="en")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ONLINE)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["follow_up", "instrument"]
        constraints = [models.UniqueConstraint(fields=["follow_up", "instrument"], name="response_once_per_instrument")]

    def __str__(self) -> str:
        return f"{self.instrument} response {self.uuid}"


class ScoreQuerySet(models.QuerySet):
    """Scores written in bulk, with their episodes' `ScoreSummary` rows recomputed in the same transaction.

    `update`, `bulk_update` and `bulk_create` send no signal, so `outcomes.summary`'s receivers
    do not see them: these refresh the rows of every episode the scores were in or went to.
    `delete` sends one signal per score: it refreshes each episode once instead.
    """

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db, savepoint=False):
            episodes = set(self.values_list("episode_id", flat=True))
            count = super().update(**kwargs)
            for key in ("episode", "episode_id"):
                if key in kwargs:
                    episodes.add(_episode_id(kwargs[key]))
            _refresh(self.db, episodes)
        return count

    def bulk_update(self, objs: Iterable["Score"], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)
        with transaction.atomic(using=self.db, savepoint=False):
            episodes = {obj.episode_id for obj in objs}
            if {"episode", "episode_id"} & set(fields):
                ids = [obj.pk for obj in objs]
                for start in range(0, len(ids), 900):  # under SQLite's 999 parameters
                    part = ids[start : start + 900]
                    episodes |= set(
                        Score.objects.using(self.db).filter(pk__in=part).values_list("episode_id", flat=True)
                    )
            count = super().bulk_update(objs, fields, batch_size=batch_size)
            _refresh(self.db, episodes)
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the scores; their receivers' refreshes are gathered into one per episode."""
        from outcomes import summary  # it reads these models

        with transaction.atomic(using=self.db, savepoint=False), summary.refreshed_once(self.db):
            return super().delete()

    def bulk_create(self, objs: Iterable["Score"], *args: Any, **kwargs: Any) -> list["Score"]:
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            _refresh(self.db, {obj.episode_id for obj in created})
        return created


def _episode_id(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "resolve_expression"):
        raise TypeError("scores are moved to another episode by its id or the episode, not by an expression")
    return value


def _refresh(using: str, episodes: set[Any]) -> None:
    from outcomes import summary  # it reads these models

    with connections[using].cursor() as cursor:
        summary.refresh(cursor, episodes - {None})


class Score(models.Model):
    """One computed score of one response, or not scorable with the reason (never 0 for missing).

    `episode`, `timepoint` and `instrument` are copied from the response so the
    dashboard aggregates one narrow table with one index. Every write keeps the episode's
    `ScoreSummary` row: a save or delete by its signals (`outcomes.summary`), a bulk write by
    `ScoreQuerySet`; raw SQL (scoring in bulk) by calling `outcomes.summary` itself.
    """

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="scores")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    timepoint = models.CharField(max_length=10, choices=Timepoint.choices)
    instrument = models.CharField(max_length=20)
    code = models.CharField(max_length=30)
    value = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    scoring_version = models.CharField(max_length=30)
    computed_at = models.DateTimeField()
    stored_episode_id: Any = None

    objects = ScoreQuerySet.as_manager()

    class Meta:
        ordering = ["response", "code"]
        indexes = [models.Index(fields=["code", "timepoint", "episode"])]
        constraints = [models.UniqueConstraint(fields=["response", "code"], name="score_once_per_code")]

    def __str__(self) -> str:
        return f"{self.code} = {self.value}" if self.value is not None else f"{self.code}: not scorable"

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> "Score":
        instance = super().from_db(db, field_names, values)
        # The episode as stored: a save that moves the score refreshes the episode it leaves too.
        instance.stored_episode_id = instance.__dict__.get("episode_id")
        return instance


class ScoreSummary(models.Model):
    """One score of one episode at baseline and at each follow-up: the row the dashboard aggregates.

    Derived from the `Score` rows, never typed: a value is NULL where the time point has no
    score or it is not scorable. Every writer of scores keeps these rows in its own
    transaction (`outcomes.summary`), so that the change from baseline of 20,000 episodes is
    a sum over 20,000 rows, not a join of each follow-up's score to its baseline's.
    """

    # Indexed by the constraint below, which leads with it.
    episode = models.ForeignKey("patients.Episode", on_delete=models.CASCADE, related_name="+", db_index=False)
    instrument = models.CharField(max_length=20)
    code = models.CharField(max_length=30)
    baseline = models.FloatField(null=True, blank=True)
    week_6 = models.FloatField(null=True, blank=True)
    month_3 = models.FloatField(null=True, blank=True)
    month_6 = models.FloatField(null=True, blank=True)
    month_12 = models.FloatField(null=True, blank=True)
    month_24 = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["episode", "instrument", "code"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "instrument", "code"], name="score_summary_once_per_score")
        ]
        indexes = [
            # The dashboard reads one score's rows, every column, from this index alone.
            models.Index(
                fields=[
                    "instrument",
                    "code",
                    "episode",
                    "baseline",
                    "week_6",
                    "month_3",
                    "month_6",
                    "month_12",
                    "month_24",
                ],
                name="score_summary_by_score",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument}.{self.code} of episode {self.episode_id}"


# The `ScoreSummary` column of each time point.
SUMMARY_COLUMNS: dict[str, str] = {
    Timepoint.BASELINE: "baseline",
    Timepoint.WEEK_6: "week_6",
    Timepoint.MONTH_3: "month_3",
    Timepoint.MONTH_6: "month_6",
    Timepoint.MONTH_12: "month_12",
    Timepoint.MONTH_24: "month_24",
}


class SurgeryConversion(models.Model):
    """The treated site went on to surgery: the event the practice exists to avoid (survival analysis)."""

    class Procedure(models.TextChoices):
        KNEE_REPLACEMENT = "knee_replacement", _("Knee replacement")
        HIP_REPLACEMENT = "hip_replacement", _("Hip replacement")
        SHOULDER_REPLACEMENT = "shoulder_replacement", _("Shoulder replacement")
        ARTHROSCOPY = "arthroscopy", _("Arthroscopy")
        TENDON_REPAIR = "tendon_repair", _("Tendon or rotator cuff repair")
        LIGAMENT_RECONSTRUCTION = "ligament_reconstruction", _("Ligament reconstruction")
        SPINE_SURGERY = "spine_surgery", _("Spine surgery")
        OTHER = "other", _("Other surgery")

    class Source(models.TextChoices):
        STAFF = "staff", _("Recorded by staff")
        PATIENT = "patient", _("Reported by the patient in a follow-up")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    episode = models.OneToOneField("patients.Episode", on_delete=models.PROTECT, related_name="surgery")
    surgery_date = models.DateField()
    procedure = models.CharField(max_length=30, choices=Procedure.choices)
    details = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Surgery {self.get_procedure_display()} on {self.surgery_date}"
