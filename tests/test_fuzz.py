"""Every form fuzzed: no 500 for any input, and a refused submission writes nothing.

The forms are found, not listed: the pages are walked (every named URL the resolver has,
and every link the pages show) as a visitor holding a booking, an intake, a questionnaire
and a consent link, and as the physician, the front desk, the administrator and the technician; each
`<form>` found is read for its fields (inputs, selects and their options,
text areas, submit buttons). Hypothesis then posts each form values a person, a broken
browser or an attacker might send: unicode, control characters and NUL, very long text,
numbers out of range, impossible dates, fields left out, fields added, several values
for one field, any string for a choice. A form the walk did not find, among those the
site is known to have, fails the test; so does a named URL the walk never reached unless
it is listed below with its reason. Forms that ask by GET (the calendar's and the
dashboard's filters, the exports' selections, the choice of a time) get the same values in
their query string, and may write nothing but audit rows.

After a refusal (a 4xx, or the page again with a form's errors) the row count of every table must be what it
was, except what a refusal legitimately writes: the audit log's rows for reading the page
again or for a denial or failed sign-in, the session, and django-axes' record of a failed
sign-in.

Then the service functions that take what people type, called directly with arbitrary
values: booking, the intake's sections, and each instrument's scoring (and `manage.py
score`) with arbitrary JSON: a result, or the service's own clear refusal, never anything
else.
"""

import html
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from outbox.models import Email
from outcomes import instruments
from outcomes.instruments.base import InvalidAnswers
from outcomes.tests.test_survey import treated
from patients import consent
from patients import intake as intakes
from patients.models import Intake, Patient
from patients.tests.episode_fixtures import open_episode
from patients.tests.test_intake import book, fill
from procedures import services as procedure_services
from procedures.tests.conftest import DAY, Clinic, at, clinic, signed, start
from procedures.tests.test_adverse_events import REPORT as ADVERSE_EVENT
from scheduling import services, tokens
from scheduling.models import Appointment, CallbackRequest
from scheduling.tests.conftest import NOW, Schedule, make_patient, schedule
from tests.test_http import url_names
from website.models import Inquiry

__all__ = ["clinic", "schedule"]
pytestmark = pytest.mark.django_db

settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # each run explores afresh; a failure prints the example to rerun
)
FUZZ = settings.get_profile("fuzz")

# --- What is posted ------------------------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n\t",
    "\x1b[31m",
    "\u202eevil",
    "\ud7ff\ufeff",
    "🦴🩸",
    "Ñandú ñ",
    "x" * 10_000,
    "9" * 40,
    "-1",
    "0",
    "1e400",
    "NaN",
    "-Infinity",
    "2031-02-30",
    "0000-00-00",
    "99/99/9999",
    "2031-03-05T25:61",
    "24:60",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{ 7*7 }}",
    "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000",
    "not-an-id",
    "true",
    "[]",
    "{}",
]
JUNK = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@dataclass
class Field:
    name: str
    kind: str  # the input's type, or "select", "textarea"
    values: list[str] = field(default_factory=list)  # what the page offers: its value, each option


@dataclass
class Form:
    """One `<form>`: where it sends, its fields, who was showing it, and how (POST, or GET for a filter)."""

    action: str
    fields: dict[str, Field]
    page: str
    who: str
    method: str = "post"


class Forms(HTMLParser):
    """The post forms of one page, and the links on it."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[tuple[str, dict[str, Field], str]] = []
        self.links: list[str] = []
        self._current: dict[str, Field] | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(html.unescape(a["href"]))
        elif tag == "form":
            self._current = {}
            self.forms.append((a.get("action") or self.page, self._current, a.get("method", "get").lower()))
        elif self._current is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._select.values.append(a.get("value", ""))
            return
        elif tag in ("input", "button", "textarea"):
            kind = tag if tag == "textarea" else a.get("type", "submit" if tag == "button" else "text").lower()
            found = self._current.setdefault(a["name"], Field(a["name"], kind))
            if "value" in a:
                found.values.append(a["value"])
        elif tag == "select":
            self._select = self._current.setdefault(a["name"], Field(a["name"], "select"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def submission(form: Form) -> st.SearchStrategy[dict[str, Any]]:
    """Values for each field of `form`: what the page offered, junk, several values, or nothing; plus extra fields."""

    def value(spec: Field) -> st.SearchStrategy[Any]:
        offered = [v for v in spec.values if v is not None]
        choices: list[st.SearchStrategy[Any]] = [JUNK, st.lists(JUNK, min_size=2, max_size=3)]
        if offered:
            choices = [st.sampled_from(offered), st.sampled_from(offered), *choices]
        return st.one_of(*choices)

    fields = st.fixed_dictionaries(
        {}, optional={name: value(spec) for name, spec in form.fields.items() if name != "csrfmiddlewaretoken"}
    )
    extra = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in form.fields), JUNK, max_size=2)
    return st.tuples(fields, extra).map(lambda pair: {**pair[1], **pair[0]})


# --- The world the pages are walked in -----------------------------------------------------------------------


@dataclass
class World:
    visitor: Client  # holds a booking's, an intake's, a questionnaire's and a consent's link, opened
    staff: dict[str, Client]
    seeds: dict[str, list[str]]  # where each walker starts


def link_in_mail(kind: str) -> str:
    for email in Email.objects.order_by("-pk"):
        found = re.search(rf"https?://[^/]+(/{kind}/[A-Za-z0-9_-]+/)", email.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no {kind} link in the outbox")


@pytest.fixture
def world(clinic: Clinic, outbox_capture: Any, settings: Any, tmp_path: Any) -> World:
    settings.VAR_DIR = tmp_path
    # The walk and the examples ask far more than one address may in an hour.
    settings.RATE_LIMITS = {group: "100000/h" for group in settings.RATE_LIMITS}
    call_command("load_consent_documents", stdout=io.StringIO())
    # A signed record with an adverse event (amend, verify, judge) and one in progress (its sections).
    done = signed(clinic)
    event = procedure_services.adverse_event_report(
        episode=clinic.episode,
        data={**ADVERSE_EVENT, "procedure": done},
        by=clinic.doctor,
        now=at("12:00", DAY + timedelta(days=2)),
    )
    record = start(clinic, episode=clinic.other_episode, appointment=None)
    inquiry = Inquiry.objects.create(name="Ask Example", email="ask@example.com", message="Parking?")
    CallbackRequest.objects.create(office=clinic.schedule.la, name="Call Example", phone="(310) 555-0101")
    visitor = Client()
    # A new patient's consultation: her intake link, opened.
    appointment, token = book(clinic.schedule, outbox_capture, patient=make_patient(91), at="14:00")
    assert visitor.get(f"/intake/{token}/").status_code == 302
    # An open 6-week questionnaire, its link opened.
    follow_up = treated()
    from accounts import links

    _link, survey_token = links.link_issue(
        purpose="questionnaire", patient=follow_up.episode.patient, target=follow_up.uuid
    )
    assert visitor.get(f"/questionnaire/{survey_token}/").status_code == 302
    # Without an email address the follow-up is on the front desk's call list at once.
    Patient.objects.filter(pk=follow_up.episode.patient_id).update(email="")
    # Another new patient's intake, sent: her answers wait for the staff to confirm them.
    sent_appointment, _token = book(clinic.schedule, outbox_capture, patient=make_patient(94), at="15:00")
    sent = intakes.intake_submit(intake=fill(sent_appointment.intakes.get()))
    # A consent to sign at home, its link opened.
    other = open_episode(clinic.schedule, make_patient(92))
    consent.consent_link_send(episode=other, by=clinic.desk)
    assert visitor.get(link_in_mail("consent")).status_code == 302
    ada = User.objects.create_user("ada", password="ada-password-1", role=Role.ADMIN, is_staff=True)
    staff = {}
    for name, user in (("bob", clinic.doctor), ("alice", clinic.desk), ("ada", ada), ("charlie", clinic.tech)):
        staff[name] = Client()
        sign_in(staff[name], user)
    manage = f"/book/manage/{tokens.manage_token(appointment)}/"
    # The times are offered as buttons of a form that asks by GET: the first one's page.
    slot = visitor.get("/book/los-angeles/").context["days"][0].times[0].value
    rosa = clinic.rosa
    seeds = {
        "visitor": [
            "/",
            "/book/",
            "/book/los-angeles/",
            "/book/los-angeles/callback/",
            f"/book/los-angeles/details/?slot={slot}",
            "/contact/",
            "/accounts/sign-in/",
            "/healthz",
            manage,
            manage + "reschedule/",
            "/intake/",
            "/questionnaire/",
            "/consent/",
        ],
        "bob": [
            "/staff/",
            f"/staff/patients/{rosa.uuid}/",
            f"/staff/patients/{rosa.uuid}/assessments/new/",
            f"/staff/patients/episodes/{clinic.episode.uuid}/",
            f"/staff/patients/episodes/{other.uuid}/consent/sign/",
            record.get_absolute_url(),
            f"/staff/procedures/episodes/{clinic.episode.uuid}/adverse-events/new/",
            f"/staff/outcomes/episodes/{follow_up.episode.uuid}/",
            f"/staff/patients/intakes/{appointment.intakes.get().uuid}/",
            f"/staff/patients/intakes/{sent.uuid}/",
            f"/staff/patients/{sent.patient.uuid}/",
            done.get_absolute_url(),
            # The section to amend is chosen by a form that asks by GET: two of them.
            f"/staff/procedures/{done.uuid}/amend/?section=counts",
            f"/staff/procedures/{done.uuid}/amend/?section=rehab",
            f"/staff/procedures/{done.uuid}/verify/",
            f"/staff/procedures/adverse-events/{event.uuid}/",
            f"/staff/patients/{clinic.luis.uuid}/break-glass/",
        ],
        "alice": [
            "/staff/",
            "/staff/calendar/",
            "/staff/calendar/new/",
            f"/staff/calendar/appointments/{clinic.appointment.uuid}/",
            "/staff/inquiries/",
            f"/staff/inquiries/{inquiry.uuid}/",
            "/staff/calendar/callbacks/",
            "/staff/outcomes/calls/",
            f"/staff/outcomes/follow-ups/{follow_up.uuid}/answers/NRS/",
        ],
        "ada": ["/staff/", "/staff/exports/", "/staff/results/", f"/staff/patients/{rosa.uuid}/access/"],
        "charlie": [record.get_absolute_url(), f"/staff/patients/{rosa.uuid}/break-glass/"],
    }
    return World(visitor=visitor, staff=staff, seeds=seeds)


# Never followed or posted: each ends the walker's own session (it would walk on signed out).
ENDS_THE_SESSION = {"accounts:logout", "accounts:sign_out_everywhere", "accounts:sessions_end_others"}
ENDS_THE_SESSION |= {"accounts:session_end"}


def name_of(url: str) -> str | None:
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def walk(world: World, *, pages_per_name: int = 2, limit: int = 400) -> tuple[list[Form], set[str]]:
    """The post forms found from the seeds by following links (each URL name at most twice per walker)."""
    forms: dict[str, Form] = {}
    reached: set[str] = set()
    for who, seeds in world.seeds.items():
        client = world.visitor if who == "visitor" else world.staff[who]
        queue, seen, per_name = list(seeds), set[str](), dict[str, int]()
        while queue and len(seen) < limit:
            url = queue.pop(0)
            name = name_of(url)
            if url in seen or name is None or name in ENDS_THE_SESSION or name.startswith("admin:"):
                continue
            if per_name.get(name, 0) >= pages_per_name:
                continue
            seen.add(url)
            per_name[name] = per_name.get(name, 0) + 1
            response = client.get(url)
            assert response.status_code < 500, f"GET {url} as {who}: {response.status_code}"
            reached.add(name)
            if response.status_code in REDIRECTS and response["Location"].startswith("/"):
                queue.append(response["Location"])
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = Forms(urlsplit(url).path)
            parser.feed(response.content.decode())
            for action, fields, method in parser.forms:
                action_name = name_of(action)
                if action_name and action_name not in ENDS_THE_SESSION:
                    key = f"{method} {action_name} {sorted(fields)}"
                    forms.setdefault(key, Form(action=action, fields=fields, page=url, who=who, method=method))
            queue += [link for link in parser.links if not link.startswith(("/static/", "/admin/"))]
    return list(forms.values()), reached


# --- What a refusal may write --------------------------------------------------------------------------------

# Rows a refused form legitimately leaves: its page read again, a denial, a failed sign-in; the session.
MAY_GROW_ON_REFUSAL = {"sessions.session", "axes.accessattempt", "axes.accessfailurelog", "axes.accesslog"}
REFUSAL_AUDIT = {AuditEvent.Action.VIEW, AuditEvent.Action.SIGN_IN_FAILED, AuditEvent.Action.LOCKED_OUT}


def counts() -> dict[str, int]:
    """The rows of every table, in one query."""
    models = [model for model in apps.get_models() if not model._meta.proxy and model._meta.managed]
    quote = connection.ops.quote_name
    # The tables' names come from the models, quoted by the backend: nothing of the fuzzed input is in the query.
    tables = ", ".join(f"(SELECT COUNT(*) FROM {quote(model._meta.db_table)})" for model in models)  # noqa: S608
    sql = "SELECT " + tables
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return {model._meta.label_lower: n for model, n in zip(models, row, strict=True)}


def audit_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def half_saved(
    before: dict[str, int], after: dict[str, int], audit_before: int, *, also: frozenset[str] = frozenset()
) -> dict[str, tuple[int, int]]:
    """The tables a refusal changed that it may not have (`also`: further audit actions it may leave)."""
    changed = {
        table: (before.get(table, 0), count)
        for table, count in after.items()
        if count != before.get(table, 0) and table not in MAY_GROW_ON_REFUSAL | {"accounts.auditevent"}
    }
    odd = AuditEvent.objects.filter(pk__gt=audit_before).exclude(action__in=REFUSAL_AUDIT | also)
    odd = odd.exclude(outcome=AuditEvent.Outcome.DENIED)
    if odd.exists():
        changed["accounts.auditevent"] = (0, odd.count())
    return changed


REDIRECTS = {301, 302, 303}


def refused(response: Any) -> bool:
    """A 4xx answer, or a page showing a bound form (or formset) with errors: the submission was not taken.

    Some forms answer a success with a page of their own (the intake's "finish later", the
    self-check's result), so a 200 alone says nothing either way.
    """
    if response.status_code >= 400:
        return True
    for context in response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else []:
            if isinstance(value, BaseForm | BaseFormSet) and value.is_bound and not value.is_valid():
                return True
    return False


def fuzz_form(client: Client, form: Form) -> int:
    """Hypothesis sends the form (a GET form's values in the query string); returns how many examples ran."""
    ran = 0
    send = client.get if form.method == "get" else client.post

    @FUZZ
    @given(data=submission(form))
    def post(data: dict[str, Any]) -> None:
        nonlocal ran
        ran += 1
        said = f"{form.method.upper()} {form.action} as {form.who}"
        note(f"{said} (form found on {form.page}): {data!r}")
        before, audit_before = counts(), audit_pk()
        response = send(form.action, data)
        assert response.status_code < 500, f"{said}: {response.status_code}"
        # A GET form (a filter, a download's selection) writes nothing but its audit rows, whatever it is sent.
        if form.method == "get":
            exported = frozenset({AuditEvent.Action.EXPORT})
            assert half_saved(before, counts(), audit_before, also=exported) == {}, f"{said} ({response.status_code})"
        elif refused(response):
            assert half_saved(before, counts(), audit_before) == {}, f"{said} ({response.status_code})"

    post()
    return ran


# The forms the site is known to have: the walk must find each (so it cannot pass by finding nothing).
EXPECTED_FORMS = {
    "accounts:login",
    "website:contact",
    "website:stem_cells",
    "scheduling:details",
    "scheduling:callback",
    "scheduling:cancel",
    "scheduling:reschedule",
    "patients:intake_section",
    "patients:consent_remote_sign",
    "outcomes:survey_step",
    "patients:chart_edit",
    "patients:chart_allergy_add",
    "patients:chart_medication_add",
    "patients:assessment_new",
    "patients:consent_sign",
    "procedures:section",
    "procedures:adverse_event_new",
    "outcomes:phone_entry",
    "scheduling:staff_new",
    "interop:identified_csv",
    "procedures:amend",
    "outcomes:call_record",
    "patients:intake_confirm",
}


# Named URLs the walk does not reach, each with why it needs no fuzzing here.
NOT_WALKED_BECAUSE = {
    # The walk's staff are signed in through both steps; accounts/tests/test_mfa.py fuzzes this form
    # from a session past the password alone.
    "the second step of sign-in, which only a session past the password alone reaches": {"accounts:two_step"},
    "they end the walker's own session (their forms hold no field but the CSRF token)": ENDS_THE_SESSION,
    # accounts/tests/test_passkeys.py posts them right and wrong answers, another person's and another site's.
    "passkeys' JSON ceremonies, posted by django-otp-webauthn's script, not by a form": {
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    },
    # accounts/tests/test_passkeys.py removes one's own and is refused another person's.
    "a passkey's Remove button, shown only to its owner (the walk's staff have none)": {"accounts:passkey_remove"},
    "a download, or a page of a finished export, with no form": {
        "accounts:access_report_csv",
        "interop:deidentified_csv",
        "interop:report_pdf",
        "interop:bulk",
        "interop:bulk_status",
        "interop:bulk_file",
        "patients:consent_pdf",
        "patients:consent_remote_pdf",
        "procedures:pdf",
        "scheduling:calendar",
    },
    "a link's opener: used by the world's set-up, a GET with nothing to post": {
        "patients:intake_start",
        "patients:consent_remote",
        "outcomes:survey_start",
    },
    "the page after a success, reached only by one (the fuzzing posts them)": {
        "scheduling:booked",
        "scheduling:callback_thanks",
        "website:contact_thanks",
        "patients:intake_done",
        "patients:consent_remote_done",
        "outcomes:survey_done",
    },
}
NOT_WALKED = set().union(*NOT_WALKED_BECAUSE.values())


def test_no_form_answers_a_500_to_any_input_and_a_refusal_writes_nothing(world: World) -> None:
    forms, reached = walk(world)
    found = {name_of(form.action) for form in forms if form.method == "post"}
    assert EXPECTED_FORMS - found == set()
    every = {name for name, _arguments in url_names()}
    unreached = sorted(every - reached - found - NOT_WALKED)
    assert unreached == [], f"pages the walk never reached (seed them, or say in NOT_WALKED why not): {unreached}"
    only = os.environ.get("FUZZ_ONLY", "")  # e.g. FUZZ_ONLY=website:contact to rerun one form's fuzzing
    ran: dict[str, int] = {}
    for form in forms:
        if only and name_of(form.action) != only:
            continue
        client = world.visitor if form.who == "visitor" else world.staff[form.who]
        key = f"{form.method.upper()} {name_of(form.action)} ({form.who})"
        ran[key] = ran.get(key, 0) + fuzz_form(client, form)
    print(f"\n{len(forms)} forms found, {len(ran)} fuzzed, {sum(ran.values())} requests: {ran}")
    assert ran and min(ran.values()) >= 1


# --- The service functions, called with whatever a caller might pass -----------------------------------------

NAMES = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=90))
MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
) | st.sampled_from(
    # The minutes around the schedule's edges and a daylight-saving change (Sunday 9 March 2031, 2:00 in LA).
    [NOW + timedelta(minutes=m) for m in (-1, 0, 1, 59, 60, 61, 24 * 60 * 2 + 120, 24 * 60 * 6 - 5)]
)


WEDNESDAY_9 = datetime(2031, 3, 5, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # a free time of the schedule
A_BOOKING = {"first": "Nora", "last": "Example", "phone": "(818) 555-0123", "email": "", "online": False}


@FUZZ
@example(starts_at=WEDNESDAY_9, born=date(1959, 4, 12), kind="follow_up", **A_BOOKING)  # books
@example(starts_at=WEDNESDAY_9, born=date(4939, 6, 7), kind="follow_up", **A_BOOKING)  # born in the future
@given(
    starts_at=MOMENTS,
    first=NAMES,
    last=NAMES,
    phone=NAMES,
    email=NAMES,
    born=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    online=st.booleans(),
    kind=st.sampled_from(["consult", "procedure", "follow_up"]),
)
def test_booking_books_or_refuses_with_a_booking_error_and_a_refusal_writes_nothing(
    schedule: Schedule,
    starts_at: datetime,
    first: str,
    last: str,
    phone: str,
    email: str,
    born: date,
    online: bool,
    kind: str,
) -> None:
    from patients.services import PatientDetails

    before = counts()
    # Each example is rolled back, so the next books the same times and the same new patient afresh
    # (a booking's patient, intake and link cannot simply be deleted: the intake protects its visit).
    with transaction.atomic():
        try:
            appointment = services.appointment_book(
                office=schedule.la,
                provider=schedule.doctor,
                appointment_type=getattr(schedule, kind),
                starts_at=starts_at,
                patient=PatientDetails(first_name=first, last_name=last, date_of_birth=born, phone=phone, email=email),
                source=Appointment.Source.ONLINE if online else Appointment.Source.STAFF,
                by=None if online else schedule.doctor.user,
                now=NOW,
            )
        except ValidationError as refusal:  # BookingError, PatientExists, a field's own check
            note(f"refused: {refusal.messages}")
            assert half_saved(before, counts(), audit_pk()) == {}
        else:
            assert appointment.pk is not None and appointment.starts_at == starts_at
            assert Patient.objects.filter(pk=appointment.patient_id, date_of_birth=born).exists()
        transaction.set_rollback(True)


ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.just([]) | st.just({}),
    lambda children: (
        st.lists(children, min_size=1, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, min_size=1, max_size=4)
    ),
    max_leaves=12,
)
SECTIONS = [section.key for section in intakes.SECTIONS] + ["review", "", "x", "\x00"]


@pytest.fixture
def an_intake(schedule: Schedule, outbox_capture: Any) -> Intake:
    appointment, _token = book(schedule, outbox_capture, patient=make_patient(93))
    return appointment.intakes.get()


@FUZZ
@given(section=st.sampled_from(SECTIONS), data=ANY_JSON)
def test_an_intake_section_is_saved_as_checked_or_refused_with_a_validation_error(
    an_intake: Intake, section: str, data: Any
) -> None:
    an_intake.refresh_from_db()  # what earlier examples saved
    before = an_intake.answers
    try:
        saved = intakes.intake_save_section(intake=an_intake, section=section, data=data)
    except ValidationError:
        an_intake.refresh_from_db()
        assert an_intake.answers == before
        return
    assert saved.answers[section] == data


ANSWERS = st.dictionaries(
    st.text(max_size=8) | st.sampled_from([str(n) for n in range(1, 60)] + ["Q1", "P1", "S1", "NRS", "SANE"]),
    st.none() | st.integers(-5, 110) | st.lists(st.integers(-2, 12), max_size=3) | ANY_JSON,
    max_size=12,
)


def scorable_codes(instrument: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Answers to the instrument's own items: each one left out, null, one of its codes, or out of range."""
    items = {}
    for item in instrument.items:
        codes = [o.code for o in item.options] if item.options else [item.low, item.high]
        items[item.code] = st.none() | st.sampled_from(codes) | st.integers(-3, 200) | st.lists(st.sampled_from(codes))
    return st.fixed_dictionaries({}, optional=items)


@pytest.mark.parametrize("code", sorted(instruments.INSTRUMENTS))
def test_each_instrument_scores_any_answers_or_refuses_them_clearly(code: str) -> None:
    instrument = instruments.get(code)

    @FUZZ
    @given(answers=st.one_of(ANSWERS, scorable_codes(instrument)))
    def score(answers: dict[str, Any]) -> None:
        try:
            results = instrument.score(answers)
        except InvalidAnswers as refusal:
            assert str(refusal)
            return
        assert set(results) == {score.code for score in instrument.scores}
        for result in results.values():
            # A number, or not scorable with the reason: never a silent 0 for "could not compute".
            assert (result.value is None) == bool(result.reason), result
            assert result.value is None or isinstance(result.value, float | int)

        stdout = io.StringIO()
        call_command("score", code, stdin=io.StringIO(json.dumps(answers)), stdout=stdout)
        printed = json.loads(stdout.getvalue())
        assert printed == {
            "scores": {c: r.value for c, r in results.items() if r.value is not None},
            "not_scorable": {c: r.reason for c, r in results.items() if r.value is None},
        }

    score()


@FUZZ
@given(code=st.sampled_from(["ODI", "koos", "NRS", "XYZ"]), stdin=st.text(max_size=60) | ANY_JSON.map(json.dumps))
def test_the_score_command_prints_scores_or_one_clear_line_for_any_input(code: str, stdin: str) -> None:
    try:
        call_command("score", code, stdin=io.StringIO(stdin), stdout=io.StringIO())
    except CommandError as refusal:
        assert "\n" not in str(refusal) and str(refusal)
