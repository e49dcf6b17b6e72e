"""The online intake before the consultation: its sections and questions as data, and its services.

The booking confirmation carries a single-use, expiring link (`accounts.links`, purpose
"intake", target the Intake's uuid). The patient fills one section per screen; each step
is saved as they go (`intake_save_section`) into `Intake.answers[section]`, so nothing
typed is lost; the last step reviews and submits (`intake_submit`), which lands what the
patient listed in the chart as patient-reported rows for a clinician to confirm
(`intake_confirm`).

The questions live here, once: the forms (`patients.forms.intake`) are built from them,
the services check what they store against them, and the review pages describe the
answers with them. What a section needs before the intake can be sent (`Section.problems`)
is the same rule for the "Save and continue" button, the review page and `intake_submit`.

How a patient comes back (the link is single-use, and stays so):

1. The first visit with the emailed link uses it up and swaps it for a 60-minute patient
   session in that browser (`accounts.links`). While it lasts, leaving and coming back
   resumes at once, at the first unfinished step: by /intake/, or by the same emailed link
   (which this browser's session was opened with: `intake_open` checks the session first,
   so nothing is used up twice).
2. Every step offers "Save and email me a link to finish later": what is on the screen is
   saved, a fresh single-use link goes to the email address on file (`intake_resend`), and
   the session ends (a shared computer keeps nothing open).
3. Someone who comes back later with the used link gets a 410 page that says what happened,
   gives both offices' numbers, and offers to email a new link, to the address on file only
   and at most once every `RESEND_EVERY`. The used link itself never opens the form again.
4. The front desk can resend the link from the intake's staff page (the older link stops working).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import links
from accounts.access import Act, Record, can
from accounts.audit import audit_record
from accounts.models import AuditEvent, PatientLink, User
from outbox.models import Email
from outbox.services import email_queue
from patients.models import Allergy, BodySite, Intake, MedicalHistory, Medication, Patient, Side, Source

PURPOSE = PatientLink.Purpose.INTAKE
# The visit type of a first consultation (scheduling's demo and website book it under this slug).
NEW_PATIENT_CONSULTATION = "new-patient-consultation"
# A patient asking for a new link (from the 410 page, or "finish later") gets at most one this often.
RESEND_EVERY = timedelta(minutes=2)
OUTBOX_KIND = "intake.link"
Status = Intake.Status

# --- The questions, as data -------------------------------------------------------------------------


class Kind(StrEnum):
    CHOICE = "choice"  # one of `choices` ("" when not answered)
    CHOICES = "choices"  # several of `choices` ([] when none)
    SCALE = "scale"  # a whole number from 0 to 10 (None when not answered)
    TEXT = "text"  # free text up to `max_length` ("" when empty)
    FLAG = "flag"  # a tick box (True or False)


Choices = tuple[tuple[str, Any], ...]
SCALE = tuple(range(11))


@dataclass(frozen=True, slots=True)
class Question:
    """One question: its key in the answers, what it asks, and what an answer may be."""

    name: str
    label: Any
    kind: Kind
    choices: Choices = ()
    max_length: int = 0
    help_text: Any = ""
    # A choice inside a repeatable row is a drop-down (compact on a phone); elsewhere radio buttons.
    select: bool = False

    @property
    def empty(self) -> Any:
        return {Kind.CHOICE: "", Kind.CHOICES: [], Kind.SCALE: None, Kind.TEXT: "", Kind.FLAG: False}[self.kind]

    def is_well_formed(self, value: Any) -> bool:
        """Whether `value` is something this question can hold (an answer or no answer)."""
        keys = {key for key, _label in self.choices}
        if self.kind == Kind.CHOICE:
            return isinstance(value, str) and (value == "" or value in keys)
        if self.kind == Kind.CHOICES:
            return (
                isinstance(value, list)
                and all(isinstance(key, str) for key in value)
                and len(set(value)) == len(value)
                and set(value) <= keys
            )
        if self.kind == Kind.SCALE:
            return value is None or (type(value) is int and value in SCALE)
        if self.kind == Kind.TEXT:
            return isinstance(value, str) and len(value) <= self.max_length
        return isinstance(value, bool)

    def label_of(self, value: Any) -> str:
        """An answer as the patient saw it, in the active language ("" when not answered)."""
        shown = dict(self.choices)
        if self.kind == Kind.CHOICE:
            return str(shown.get(value, ""))
        if self.kind == Kind.CHOICES:
            return "; ".join(str(shown[key]) for key in value if key in shown)
        if self.kind == Kind.SCALE:
            return "" if value is None else f"{value} / 10"
        if self.kind == Kind.FLAG:
            return gettext("Yes") if value else ""
        return str(value)


@dataclass(frozen=True, slots=True)
class Rows:
    """A repeatable group (areas, medications, allergies): a list of rows, each answering `questions`."""

    name: str
    legend: Any  # "Medication %(number)s"
    questions: tuple[Question, ...]
    shown: int  # empty rows offered at first
    most: int = 10

    def is_blank(self, row: dict[str, Any]) -> bool:
        return all(row.get(q.name, q.empty) in (q.empty, None) for q in self.questions)


@dataclass(frozen=True, slots=True)
class Problem:
    """What keeps a section from being finished, said next to the field (`row`: which row of the group)."""

    field: str
    message: str
    row: int | None = None


def _no_problems(answers: dict[str, Any]) -> list[Problem]:
    return []


@dataclass(frozen=True, slots=True)
class Section:
    """One screen of the intake: its questions (and at most one repeatable group), in order."""

    key: str
    title: Any
    lead: Any
    parts: tuple[Question | Rows, ...] = ()
    rules: Callable[[dict[str, Any]], list[Problem]] = _no_problems

    @property
    def questions(self) -> list[Question]:
        return [part for part in self.parts if isinstance(part, Question)]

    @property
    def rows(self) -> Rows | None:
        return next((part for part in self.parts if isinstance(part, Rows)), None)

    @property
    def number(self) -> int:
        return SECTION_KEYS.index(self.key) + 1

    def empty_answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = {q.name: q.empty for q in self.questions}
        if self.rows is not None:
            answers[self.rows.name] = []
        return answers

    def answers_in(self, intake: Intake) -> dict[str, Any]:
        """This section's saved answers (every key present), or empty ones."""
        saved = intake.answers.get(self.key) if isinstance(intake.answers, dict) else None
        return {**self.empty_answers(), **saved} if isinstance(saved, dict) else self.empty_answers()

    def check(self, answers: Any) -> None:
        """Refuse (ValidationError) anything that is not this section's answers: unknown keys, values or sizes."""
        if not isinstance(answers, dict) or set(answers) != set(self.empty_answers()):
            raise ValidationError(f"The answers of {self.key} do not match its questions.", code="malformed")
        for question in self.questions:
            if not question.is_well_formed(answers[question.name]):
                raise ValidationError(f"{self.key}.{question.name} is not a possible answer.", code="malformed")
        if self.rows is not None:
            rows = answers[self.rows.name]
            if not isinstance(rows, list) or len(rows) > self.rows.most:
                raise ValidationError(f"{self.key}.{self.rows.name} is not a list of rows.", code="malformed")
            names = {q.name for q in self.rows.questions}
            for row in rows:
                if not isinstance(row, dict) or set(row) != names or self.rows.is_blank(row):
                    raise ValidationError(f"A row of {self.key}.{self.rows.name} is malformed.", code="malformed")
                if not all(q.is_well_formed(row[q.name]) for q in self.rows.questions):
                    raise ValidationError(f"A row of {self.key}.{self.rows.name} is malformed.", code="malformed")

    def problems(self, answers: dict[str, Any]) -> list[Problem]:
        """What is missing or contradictory before this section counts as finished."""
        return self.rules({**self.empty_answers(), **answers})

    def describe(self, answers: dict[str, Any]) -> list[tuple[str, str]]:
        """The answers as (question, answer) lines in the active language, unanswered ones left out."""
        answers = {**self.empty_answers(), **answers}
        lines: list[tuple[str, str]] = []
        for part in self.parts:
            if isinstance(part, Question):
                shown = part.label_of(answers[part.name])
                if shown:
                    lines.append((str(part.label), shown))
                continue
            for number, row in enumerate(answers[part.name], start=1):
                said = [q.label_of(row.get(q.name, q.empty)) for q in part.questions]
                lines.append((str(part.legend) % {"number": number}, ", ".join(text for text in said if text)))
        return lines


YES, NO, UNSURE = "yes", "no", "unsure"
YES_NO_UNSURE: Choices = ((YES, _("Yes")), (NO, _("No")), (UNSURE, _("Not sure")))
SPINE = (BodySite.LUMBAR_SPINE, BodySite.CERVICAL_SPINE)

DURATIONS: Choices = (
    ("under_6_weeks", _("Less than 6 weeks")),
    ("6_weeks_3_months", _("6 weeks to 3 months")),
    ("3_12_months", _("3 to 12 months")),
    ("1_2_years", _("1 to 2 years")),
    ("over_2_years", _("More than 2 years")),
)
TREATMENTS: Choices = (
    ("physical_therapy", _("Physical therapy")),
    ("nsaids", _("Anti-inflammatory pills (NSAIDs), such as ibuprofen or naproxen")),
    ("cortisone", _("Cortisone (steroid) injection")),
    ("hyaluronic_acid", _("Hyaluronic acid (gel) injection")),
    ("prp", _("Platelet-rich plasma (PRP) injection, before now")),
    ("surgery", _("Surgery")),
    ("other", _("Something else")),
    ("none", _("No treatment yet")),
)
IMAGING: Choices = (
    ("xray", _("X-ray")),
    ("mri", _("MRI")),
    ("ultrasound", _("Ultrasound")),
    ("ct", _("CT scan")),
    ("none", _("None")),
)
IMAGING_WHEN: Choices = (
    ("under_6_months", _("Less than 6 months ago")),
    ("6_12_months", _("6 to 12 months ago")),
    ("over_1_year", _("More than a year ago")),
    ("not_sure", _("I am not sure")),
)
GOALS: Choices = (
    ("avoid_surgery", _("Avoid surgery")),
    ("walk_without_pain", _("Walk without pain")),
    ("return_to_sport", _("Return to a sport or exercise")),
    ("sleep_without_pain", _("Sleep without pain")),
    ("daily_tasks", _("Do daily tasks and work more easily")),
    ("fewer_pain_medicines", _("Take fewer pain medicines")),
)
# The screening questions for contraindications, and the MedicalHistory field a clear answer fills.
SCREENING: tuple[tuple[str, Any, str], ...] = (
    ("infection", _("Do you have an infection now, for example of the skin, the bladder or the chest?"), ""),
    ("fever", _("Have you had a fever in the last 7 days?"), ""),
    ("cancer", _("Have you ever had cancer, or are you being treated for cancer now?"), "cancer_history"),
    (
        "bleeding_disorder",
        _("Have you been told you have a bleeding disorder, such as hemophilia?"),
        "bleeding_disorder",
    ),
    (
        "anticoagulant",
        _(
            "Do you take a blood thinner, such as warfarin, apixaban (Eliquis), rivaroxaban (Xarelto)"
            " or clopidogrel (Plavix)?"
        ),
        "",
    ),
    ("pregnancy", _("Are you pregnant, or could you be?"), ""),
    (
        "steroid_injection",
        _("Have you had a steroid (cortisone) injection in the area to be treated in the last 6 weeks?"),
        "",
    ),
)  # fmt: skip


def _concerns_rules(answers: dict[str, Any]) -> list[Problem]:
    problems = []
    if not answers["areas"]:
        problems.append(Problem("areas", gettext("Please add at least one area that bothers you.")))
    for n, row in enumerate(answers["areas"]):
        if not row["site"]:
            problems.append(Problem("site", gettext("Please choose the area."), n))
        elif row["site"] == BodySite.OTHER and not row["other"].strip():
            problems.append(Problem("other", gettext("Please tell us which area."), n))
        if not row["side"]:
            problems.append(Problem("side", gettext("Please choose the side."), n))
        elif row["side"] == Side.MIDLINE and row["site"] and row["site"] not in SPINE:
            message = gettext("Midline is for the neck or the lower back. Please choose left, right or both sides.")
            problems.append(Problem("side", message, n))
        if not row["duration"]:
            problems.append(Problem("duration", gettext("Please tell us how long you have had it."), n))
    if answers["pain_now"] is None:
        problems.append(Problem("pain_now", gettext("Please choose a number from 0 to 10.")))
    return problems


def _none_alone(answers: dict[str, Any], name: str, *, missing: str, both: str) -> list[Problem]:
    """A list of choices that needs one answer, where "none" cannot go with another."""
    chosen = answers[name]
    if not chosen:
        return [Problem(name, missing)]
    if "none" in chosen and len(chosen) > 1:
        return [Problem(name, both)]
    return []


def _treatments_rules(answers: dict[str, Any]) -> list[Problem]:
    problems = _none_alone(
        answers,
        "tried",
        missing=gettext("Please choose at least one, or “No treatment yet”."),
        both=gettext("You chose “No treatment yet” and a treatment. Please choose one or the other."),
    )
    if "other" in answers["tried"] and not answers["other"].strip():
        problems.append(Problem("other", gettext("Please tell us what else you tried.")))
    return problems


def _imaging_rules(answers: dict[str, Any]) -> list[Problem]:
    problems = _none_alone(
        answers,
        "kinds",
        missing=gettext("Please choose at least one, or “None”."),
        both=gettext("You chose “None” and a kind of imaging. Please choose one or the other."),
    )
    if answers["kinds"] and "none" not in answers["kinds"] and not answers["when"]:
        problems.append(Problem("when", gettext("Please tell us when the most recent one was done.")))
    return problems


def _goals_rules(answers: dict[str, Any]) -> list[Problem]:
    if not answers["goals"] and not answers["own_words"].strip():
        return [Problem("goals", gettext("Please choose at least one goal, or write your own."))]
    return []


def _list_or_none(
    answers: dict[str, Any], rows: str, first: str, *, missing: str, both: str, unnamed: str
) -> list[Problem]:
    """Rows of things (medications, allergies), or the "none" box ticked: one or the other."""
    listed = answers[rows]
    problems = [Problem(first, unnamed, n) for n, row in enumerate(listed) if not row[first].strip()]
    if not listed and not answers["none"]:
        problems.append(Problem("none", missing))
    elif listed and answers["none"]:
        problems.append(Problem("none", both))
    return problems


def _medications_rules(answers: dict[str, Any]) -> list[Problem]:
    return _list_or_none(
        answers,
        "medications",
        "name",
        missing=gettext("Please list your medications, or tick “I take no medications”."),
        both=gettext("You ticked “I take no medications” and listed some. Please untick it, or clear the list."),
        unnamed=gettext("Please give the name of the medication."),
    )


def _allergies_rules(answers: dict[str, Any]) -> list[Problem]:
    return _list_or_none(
        answers,
        "allergies",
        "substance",
        missing=gettext("Please list your allergies, or tick “I have no allergies”."),
        both=gettext("You ticked “I have no allergies” and listed some. Please untick it, or clear the list."),
        unnamed=gettext("Please say what you are allergic to."),
    )


def _screening_rules(answers: dict[str, Any]) -> list[Problem]:
    message = gettext("Please answer yes, no or not sure.")
    return [Problem(name, message) for name, _label, _field in SCREENING if not answers[name]]


SECTIONS: tuple[Section, ...] = (
    Section(
        "concerns",
        _("What brings you in"),
        _("Tell us where it hurts. You can add more than one area."),
        (
            Rows(
                "areas",
                _("Area %(number)s"),
                (
                    Question("site", _("Where"), Kind.CHOICE, tuple(BodySite.choices), select=True),
                    Question("other", _("If other, which area"), Kind.TEXT, max_length=120),
                    Question("side", _("Side"), Kind.CHOICE, tuple(Side.choices), select=True),
                    Question("duration", _("How long have you had it?"), Kind.CHOICE, DURATIONS, select=True),
                ),
                shown=1,
                most=6,
            ),
            Question(
                "pain_now",
                _("How bad is the pain right now, where it hurts most?"),
                Kind.SCALE,
                tuple((str(n), str(n)) for n in SCALE),
                help_text=_("0 means no pain. 10 means the worst pain you can imagine."),
            ),
        ),
        _concerns_rules,
    ),
    Section(
        "treatments",
        _("Treatments you have tried"),
        _("Choose everything you have tried for this problem."),
        (
            Question("tried", _("Treatments tried"), Kind.CHOICES, TREATMENTS),
            Question("other", _("If something else, what"), Kind.TEXT, max_length=200),
            Question("surgery", _("If you had surgery, which one and when"), Kind.TEXT, max_length=300),
        ),
        _treatments_rules,
    ),
    Section(
        "imaging",
        _("Imaging"),
        _("Tell us about any X-rays or scans of the area."),
        (
            Question("kinds", _("Imaging done"), Kind.CHOICES, IMAGING),
            Question("when", _("When was the most recent one?"), Kind.CHOICE, IMAGING_WHEN),
        ),
        _imaging_rules,
    ),
    Section(
        "goals",
        _("Your goals"),
        _("What would you like treatment to help you do?"),
        (
            Question("goals", _("Goals"), Kind.CHOICES, GOALS),
            Question("own_words", _("In your own words (optional)"), Kind.TEXT, max_length=500),
        ),
        _goals_rules,
    ),
    Section(
        "medications",
        _("Medications"),
        _("List the medicines you take, including vitamins, supplements and pain relievers you buy yourself."),
        (
            Question("none", _("I take no medications"), Kind.FLAG),
            Rows(
                "medications",
                _("Medication %(number)s"),
                (
                    Question("name", _("Name"), Kind.TEXT, max_length=120),
                    Question("dose", _("Dose and how often (optional)"), Kind.TEXT, max_length=120),
                ),
                shown=3,
            ),
        ),
        _medications_rules,
    ),
    Section(
        "allergies",
        _("Allergies"),
        _("List anything you are allergic to: medicines, latex, foods, tape."),
        (
            Question("none", _("I have no allergies"), Kind.FLAG),
            Rows(
                "allergies",
                _("Allergy %(number)s"),
                (
                    Question("substance", _("Allergic to"), Kind.TEXT, max_length=120),
                    Question("reaction", _("What happens (optional)"), Kind.TEXT, max_length=200),
                ),
                shown=2,
            ),
        ),
        _allergies_rules,
    ),
    Section(
        "screening",
        _("Health questions"),
        _("These questions help the physician decide whether the treatment is safe for you now."),
        (
            *(Question(name, label, Kind.CHOICE, YES_NO_UNSURE) for name, label, _field in SCREENING),
            Question(
                "details",
                _("If you answered yes or not sure, tell us more (optional)"),
                Kind.TEXT,
                max_length=500,
            ),
        ),
        _screening_rules,
    ),
    Section("review", _("Check and send"), _("Check your answers, then send them to the practice.")),
)
SECTION_KEYS = tuple(section.key for section in SECTIONS)
BY_KEY = {section.key: section for section in SECTIONS}
# The steps with questions; the last step ("review") only shows them and sends.
FORM_SECTIONS = SECTIONS[:-1]
REVIEW = SECTIONS[-1]


# --- Errors -------------------------------------------------------------------------------------


class IntakeError(ValidationError):
    """A refused intake action, with a message that can be shown as is."""


class IntakeClosed(IntakeError):
    def __init__(self) -> None:
        super().__init__(_("This form was already sent, so it can no longer be changed."), code="closed")


class IntakeIncomplete(IntakeError):
    """Some sections are not finished: `sections` names them, in order."""

    def __init__(self, sections: list[str]) -> None:
        super().__init__(_("Some answers are missing. Please finish the steps marked below."), code="incomplete")
        self.sections = sections


class IntakeNotSubmitted(IntakeError):
    def __init__(self) -> None:
        super().__init__(_("The patient has not sent this form yet."), code="not_submitted")


class NoEmailAddress(IntakeError):
    def __init__(self) -> None:
        super().__init__(_("This patient has no email address on file. Please call them."), code="no_email")


# --- Reads --------------------------------------------------------------------------------------


def section_of(key: str) -> Section | None:
    return BY_KEY.get(key)


def previous_section(section: Section) -> Section | None:
    return SECTIONS[section.number - 2] if section.number > 1 else None


def next_section(section: Section) -> Section | None:
    return SECTIONS[section.number] if section.number < len(SECTIONS) else None


def unfinished(intake: Intake) -> list[Section]:
    """The sections with questions still missing or contradictory, in order."""
    return [section for section in FORM_SECTIONS if section.problems(section.answers_in(intake))]


def resume_section(intake: Intake) -> Section:
    """Where a patient coming back picks up: the first unfinished step, else the review."""
    left = unfinished(intake)
    return left[0] if left else REVIEW


@dataclass(frozen=True, slots=True)
class SectionSummary:
    section: Section
    lines: list[tuple[str, str]]
    finished: bool


def describe(intake: Intake) -> list[SectionSummary]:
    """Every section's answers, as lines to show (patient's review, staff review), in the active language."""
    return [
        SectionSummary(
            section=section,
            lines=section.describe(section.answers_in(intake)),
            finished=not section.problems(section.answers_in(intake)),
        )
        for section in FORM_SECTIONS
    ]


def screening_flags(intake: Intake) -> list[tuple[str, str]]:
    """The screening questions answered "yes" or "not sure" (question, answer): for the clinician's eye first."""
    answers = BY_KEY["screening"].answers_in(intake)
    shown = dict(YES_NO_UNSURE)
    return [(str(label), str(shown[answers[name]])) for name, label, _f in SCREENING if answers[name] in (YES, UNSURE)]


def intake_for_session(request: HttpRequest) -> Intake | None:
    """The intake the visitor's patient session opens (one intake of one patient), or None."""
    session = links.current(request, purpose=PURPOSE)
    if session is None:
        return None
    try:
        found = Intake.objects.select_related("patient", "appointment__office")
        return found.filter(uuid=session.target, patient_id=session.patient_id).first()
    except ValidationError:
        return None


def link_for_token(token: str) -> PatientLink | None:
    """The intake link `token` names (used or not, expired or not); None for an unknown token. Uses nothing up."""
    return PatientLink.objects.filter(token_sha256=links.digest(token), purpose=PURPOSE).first()


def intake_of_link(link: PatientLink) -> Intake | None:
    """The intake a link was issued for."""
    found = Intake.objects.select_related("patient", "appointment__office")
    return found.filter(uuid=link.target, patient_id=link.patient_id).first()


def link_usable(link: PatientLink, *, now: datetime | None = None) -> bool:
    """Whether the link would still open the form (not used, not replaced, not expired)."""
    now = now or timezone.now()
    return link.used_at is None and link.revoked_at is None and link.expires_at > now


def latest_link(intake: Intake) -> PatientLink | None:
    return PatientLink.objects.filter(purpose=PURPOSE, target=str(intake.uuid)).order_by("-created_at", "-pk").first()


def may_confirm(user: Any) -> bool:
    """Whether `user` may confirm what a patient reported: a clinician who keeps the clinical record.

    The policy gives the front desk INTAKE change too (to resend the link), so confirming
    asks for the clinical record's own right as well (episodes: physicians and PAs).
    """
    return can(user, Act.CHANGE, Record.INTAKE) and can(user, Act.CHANGE, Record.EPISODE)


@dataclass(frozen=True, slots=True)
class Reported:
    """What the patient reported that sits in the chart unconfirmed (the staff review lists it)."""

    medications: list[Medication] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    history: MedicalHistory | None = None


def reported_unconfirmed(patient: Patient) -> Reported:
    """The patient's patient-reported chart rows no clinician has confirmed yet: three queries."""
    unconfirmed = {"source": Source.PATIENT, "confirmed_at__isnull": True}
    return Reported(
        medications=list(Medication.objects.filter(patient=patient, is_active=True, **unconfirmed).order_by("pk")),
        allergies=list(Allergy.objects.filter(patient=patient, is_active=True, **unconfirmed).order_by("pk")),
        history=MedicalHistory.objects.filter(patient=patient, **unconfirmed).first(),
    )


# --- Writes -------------------------------------------------------------------------------------


def needs_intake(appointment: Any) -> bool:
    """A booking asks for an intake when it is a new-patient consultation, or the patient never sent one."""
    if appointment.appointment_type.slug == NEW_PATIENT_CONSULTATION:
        return True
    return not appointment.patient.intakes.filter(status__in=[Status.SUBMITTED, Status.CONFIRMED]).exists()


def intake_for_booking(*, appointment: Any, by: User | None, language: str = "") -> str | None:
    """The intake a new booking asks the patient to fill, and a fresh link's token for its email; None if none.

    Called by `scheduling.services.appointment_book` inside its transaction. The patient's
    intake in progress is reused (and pointed at this booking, when its own visit is no
    longer booked); otherwise a new one is made. An empty intake holds nothing about
    health, so the booking's own audit row covers it; the link replaces any earlier one.
    """
    from scheduling.models import AppointmentStatus

    if not needs_intake(appointment):
        return None
    patient = appointment.patient
    language = language or patient.preferred_language
    with transaction.atomic():
        intake = patient.intakes.filter(status=Status.IN_PROGRESS).select_related("appointment").first()
        if intake is None:
            intake = Intake(patient=patient, appointment=appointment, language=language)
            intake.full_clean(exclude=["patient", "appointment"])
            intake.save()
        elif intake.appointment is None or intake.appointment.status != AppointmentStatus.BOOKED:
            intake.appointment = appointment
            intake.save(update_fields=["appointment", "updated_at"])
        _link, token = links.link_issue(purpose=PURPOSE, patient=patient, target=intake.uuid, by=by)
    return token


def intake_open(*, request: HttpRequest, token: str) -> Intake:
    """The intake `token` opens for this visitor: a live session opened with this very link, or the link used now.

    Raises `links.LinkUnknown` (404) or `links.LinkGone` (410) as `links.link_open` does.
    Coming back with the same link while the session it was swapped for lives uses
    nothing up: the browser already holds the session, the token alone opens nothing.
    """
    session = links.current(request, purpose=PURPOSE)
    same_link = PatientLink.objects.filter(pk=session.link_id, token_sha256=links.digest(token)) if session else None
    if same_link is not None and same_link.exists():
        intake = intake_for_session(request)
        if intake is not None:
            return intake
    opened = links.link_open(request, token, purpose=PURPOSE)
    intake = Intake.objects.filter(uuid=opened.target, patient_id=opened.patient_id).first()
    if intake is None:  # the intake a link names is never deleted (PROTECT); a guard, not a path
        raise links.LinkUnknown
    return intake


def intake_save_section(
    *,
    intake: Intake,
    section: str,
    data: dict[str, Any],
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Intake:
    """Store one section's answers (as the patient has them so far) and leave one "change" row, by the patient.

    `data` must be that section's answers (`Section.check`): a malformed one is refused
    with nothing written. A sent intake is closed (`IntakeClosed`).
    """
    found = section_of(section)
    if found is None or found is REVIEW:
        raise ValidationError(f"{section!r} is not a section with questions.", code="unknown_section")
    found.check(data)
    with transaction.atomic():
        locked = _lock(intake)
        if locked.status != Status.IN_PROGRESS:
            raise IntakeClosed()
        locked.answers = {**(locked.answers if isinstance(locked.answers, dict) else {}), section: data}
        locked.started_at = locked.started_at or now or timezone.now()
        locked.full_clean(exclude=["patient", "appointment", "confirmed_by"])
        locked._history_user = None  # type: ignore[attr-defined]
        locked.save(update_fields=["answers", "started_at", "updated_at"])
        _audit(locked, action=AuditEvent.Action.CHANGE, by=None, request=request)
    _copy(locked, into=intake)
    return intake


def intake_submit(*, intake: Intake, request: HttpRequest | None = None, now: datetime | None = None) -> Intake:
    """Send the intake: submitted, and what the patient listed lands in the chart as patient-reported.

    Medications and allergies become rows with source "patient" (a medication's class
    computed from its name); the screening fills the medical history's unset answers,
    on a history no clinician has recorded or confirmed (theirs is never changed).
    Refused with `IntakeIncomplete` while a section is unfinished. Sending twice changes
    nothing the second time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(intake)
        if locked.status != Status.IN_PROGRESS:
            _copy(locked, into=intake)
            return intake
        left = unfinished(locked)
        if left:
            raise IntakeIncomplete([section.key for section in left])
        _lock_patient(locked.patient)
        locked.status = Status.SUBMITTED
        locked.submitted_at = now
        locked.full_clean(exclude=["patient", "appointment", "confirmed_by"])
        locked._history_user = None  # type: ignore[attr-defined]
        locked.save(update_fields=["status", "submitted_at", "updated_at"])
        _audit(locked, action=AuditEvent.Action.CHANGE, by=None, request=request)
        try:
            _land_in_chart(locked, request=request)
        except ValidationError as refused:
            # The chart refused a row (a chart merged into another meanwhile): nothing is sent, the patient is told.
            raise IntakeError(
                _("We could not send your form. Please call the office; your answers are saved."), code="chart_refused"
            ) from refused
    _copy(locked, into=intake)
    return intake


def intake_confirm(
    *, intake: Intake, by: User, request: HttpRequest | None = None, now: datetime | None = None
) -> Intake:
    """A clinician confirms the intake, and with it the patient-reported rows it put in the chart. Twice is once.

    The rows are confirmed through the chart's services (`patients.services`), each with its audit row.
    """
    from patients import services

    if not may_confirm(by):
        raise IntakeError(_("Only a physician or physician assistant can confirm an intake."), code="not_allowed")
    with transaction.atomic():
        locked = _lock(intake)
        if locked.status == Status.CONFIRMED:
            _copy(locked, into=intake)
            return intake
        if locked.status != Status.SUBMITTED:
            raise IntakeNotSubmitted()
        locked.status = Status.CONFIRMED
        locked.confirmed_at = now or timezone.now()
        locked.confirmed_by = by
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save(update_fields=["status", "confirmed_at", "confirmed_by", "updated_at"])
        _audit(locked, action=AuditEvent.Action.CHANGE, by=by, request=request)
        reported = reported_unconfirmed(locked.patient)
        for medication in reported.medications:
            services.medication_confirm(medication=medication, by=by, request=request, now=now)
        for allergy in reported.allergies:
            services.allergy_confirm(allergy=allergy, by=by, request=request, now=now)
        if reported.history is not None:
            services.medical_history_confirm(patient=locked.patient, by=by, request=request, now=now)
    _copy(locked, into=intake)
    return intake


def intake_resend(
    *, intake: Intake, by: User | None, request: HttpRequest | None = None, language: str = ""
) -> Email | None:
    """Email the patient a fresh single-use link to their intake in progress; the older links stop working.

    `by` is the member of staff (the front desk's "Resend"), or None for the patient
    asking (the "finish later" button, the 410 page): then none goes out while one sent
    less than `RESEND_EVERY` ago is still unused (None says so). In `language`, or
    the intake's own. Refused for a sent intake (`IntakeClosed`) and a patient without
    an email address (`NoEmailAddress`).
    """
    with transaction.atomic():
        locked = _lock(intake)
        if locked.status != Status.IN_PROGRESS:
            raise IntakeClosed()
        patient = locked.patient
        if not patient.email:
            raise NoEmailAddress()
        if by is None:
            # A link sent a moment ago and still unused is the one to use; a used one (the patient's own,
            # just now) is no reason to wait.
            now = timezone.now()
            recent = PatientLink.objects.filter(
                purpose=PURPOSE,
                target=str(locked.uuid),
                created_at__gt=now - RESEND_EVERY,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
            )
            if recent.exists():
                return None
        _link, token = links.link_issue(purpose=PURPOSE, patient=patient, target=locked.uuid, by=by)
        email = email_queue(
            message=_link_email(locked, token=token, language=language or locked.language),
            kind=OUTBOX_KIND,
            reference=locked.uuid,
        )
        _audit(locked, action=AuditEvent.Action.CHANGE, by=by, request=request)
    return email


def intake_url(token: str, *, language: str) -> str:
    """The absolute address of a link's token, in `language` (Spanish under /es/)."""
    with translation.override(language):
        return settings.SITE_URL + reverse("patients:intake_start", kwargs={"token": token})


# --- Internals ----------------------------------------------------------------------------------


def _lock(intake: Intake) -> Intake:
    """The intake re-read inside the transaction (its row locked on PostgreSQL; SQLite's writers are serialised)."""
    # Only the intake's own row is locked (its visit is an outer join, which PostgreSQL cannot lock).
    locked = Intake.objects.select_for_update(of=("self",)).select_related("patient", "appointment__office")
    return locked.get(pk=intake.pk)


def _lock_patient(patient: Patient) -> None:
    if connection.features.has_select_for_update:
        list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))


def _copy(source: Intake, *, into: Intake) -> None:
    kept = ("answers", "status", "started_at", "submitted_at", "confirmed_at", "confirmed_by_id", "appointment_id")
    for name in kept:
        setattr(into, name, getattr(source, name))


def _audit(intake: Intake, *, action: str, by: User | None, request: HttpRequest | None) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type=Record.INTAKE,
        object_ref=str(intake.uuid),
        patient=intake.patient,
        request=request,
    )


def _land_in_chart(intake: Intake, *, request: HttpRequest | None) -> None:
    """The intake's medications, allergies and screening answers, into the chart as patient-reported rows.

    Through the chart's own services (`patients.services`: each row checked, classified,
    kept in history and audited); a medication or allergy already listed is not added twice.
    """
    from patients import services

    patient = intake.patient
    meds = BY_KEY["medications"].answers_in(intake)["medications"]
    known = {(m.name.casefold(), m.dose.casefold()) for m in patient.medications.filter(is_active=True)}
    for row in meds:
        name, dose = row["name"].strip(), row["dose"].strip()
        if (name.casefold(), dose.casefold()) not in known:
            known.add((name.casefold(), dose.casefold()))
            services.medication_add(
                patient=patient, name=name, dose=dose, by=None, source=Source.PATIENT, request=request
            )
    allergies = BY_KEY["allergies"].answers_in(intake)["allergies"]
    substances = {a.substance.casefold() for a in patient.allergies.filter(is_active=True)}
    for row in allergies:
        substance = row["substance"].strip()
        if substance.casefold() not in substances:
            substances.add(substance.casefold())
            services.allergy_add(
                patient=patient,
                substance=substance,
                reaction=row["reaction"].strip(),
                by=None,
                source=Source.PATIENT,
                request=request,
            )
    history, action = _history_from(intake)
    if history is not None:
        history.full_clean(exclude=["patient"])
        history._history_user = None  # type: ignore[attr-defined]
        history.save()
        audit_record(
            actor=None,
            action=action,
            object_type="medical_history",
            # One per patient, without a public id of its own: the patient's names it (as the chart's services do).
            object_ref=str(patient.uuid),
            patient=patient,
            request=request,
        )


def _history_from(intake: Intake) -> tuple[MedicalHistory | None, str]:
    """The medical history with the intake's clear answers in its unset fields, if that changes anything.

    Only a history the patient alone has reported (none yet, or an unconfirmed
    patient-reported one) is filled: one row has one source, and a clinician's stays theirs.
    """
    patient = intake.patient
    history = MedicalHistory.objects.filter(patient=patient).first()
    action = AuditEvent.Action.CHANGE
    if history is None:
        history = MedicalHistory(patient=patient, source=Source.PATIENT)
        action = AuditEvent.Action.CREATE
    elif history.source != Source.PATIENT or history.confirmed_at is not None:
        return None, ""
    screening = BY_KEY["screening"].answers_in(intake)
    changed = False
    for name, _label, history_field in SCREENING:
        answer = screening[name]
        if history_field and getattr(history, history_field) is None and answer in (YES, NO):
            setattr(history, history_field, answer == YES)
            changed = True
    treatments = BY_KEY["treatments"].answers_in(intake)
    if "surgery" in treatments["tried"] and not history.prior_surgery_at_site:
        history.prior_surgery_at_site = treatments["surgery"].strip() or "Surgery (details not given)"
        changed = True
    return (history, action) if changed else (None, "")


def _link_email(intake: Intake, *, token: str, language: str) -> EmailMessage:
    """The email with a new link: the link and the office's phone, nothing about health."""
    from website.models import Office, Practice

    if language not in Patient.Language.values:
        language = Patient.Language.ENGLISH
    appointment = intake.appointment
    offices: Iterable[Office] = (
        [appointment.office] if appointment is not None else Office.objects.filter(is_active=True)
    )
    practice = Practice.objects.first()
    with translation.override(language):
        context = {
            "url": intake_url(token, language=language),
            "days": links.VALID_FOR[PURPOSE].days,
            "offices": list(offices),
            "practice_name": practice.name if practice is not None else "RegenClinic",
        }
        subject = gettext("Your link to the form before your visit")
        body = render_to_string("patients/intake/email/link.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[intake.patient.email])
