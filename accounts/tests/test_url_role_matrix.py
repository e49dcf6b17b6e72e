"""Every route, every persona: who gets in, who is turned away, and nothing unexpected succeeds.

The routes come from the URL resolver, so a route added without a row here fails the
test that lists them. Personas: anonymous; two patients' browsers, each holding the
patient session its intake link and its consent link were swapped for (patient A is
Rosa, patient B is Luis); and a signed-in member of staff of each role (all `is_staff`,
as the practice's staff are; none a superuser). Each route is asked once per persona,
with the method it answers (GET for pages, POST for actions), on real rows: a chart with
an allergy and a medication, an intake and its link, an episode with a signed consent,
procedure records (one signed, one in progress) and an adverse event.

Who may is read from `accounts.access.POLICY`, never listed by hand: a role without the
right to a record gets a 404 for it (never confirming it exists), a list page may be a
403, and whoever is not signed in is sent to sign in (302). The patients' own pages read
the patient session, never an id: each patient sees only their own intake and consent.
IDOR attempts (another patient's row under a patient's URL, an id of another kind,
another record's injection, a link of one purpose on another's page) are refused and
change nothing.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import links
from accounts.access import BREAK_GLASS_RECORDS, POLICY, Act, Record
from accounts.models import AuditEvent, PatientLink, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from interop.models import BulkExport
from outbox.models import Email
from outcomes.tests.factories import baseline_answered
from patients.models import (
    Allergy,
    BodySite,
    ConsentSignature,
    Episode,
    Indication,
    Intake,
    Medication,
    Patient,
    Side,
    Source,
)
from procedures import services as procedures
from procedures.models import AdverseEvent, Injection, ProcedureRecord
from procedures.tests.conftest import SECTIONS_BY, at, signed_consent
from scheduling import tokens
from scheduling.models import Appointment, CallbackRequest, Reminder
from scheduling.tests.conftest import NOW, Schedule, local
from website.models import Inquiry

pytestmark = pytest.mark.django_db

ROLES = [
    Role.FRONT_DESK,
    Role.PHYSICIAN,
    Role.PHYSICIAN_ASSISTANT,
    Role.TECHNICIAN,
    Role.MANAGER,
    Role.RESEARCHER,
    Role.ADMIN,
]
ANONYMOUS = "anonymous"
# Two patients' browsers: each opened its own intake link and consent link (A: Rosa, B: Luis).
LINK_A = "patient link A"
LINK_B = "patient link B"
LINKS = frozenset({LINK_A, LINK_B})
PERSONAS = [ANONYMOUS, LINK_A, LINK_B, *ROLES]
# Nobody signed in: the public, and patients (a patient session is no staff sign-in).
NOT_STAFF = frozenset({ANONYMOUS, *LINKS})


def may(record: Record, act: Act = Act.VIEW) -> frozenset[str]:
    """The roles `accounts.access.POLICY` lets `act` on `record`."""
    return frozenset(role for role in ROLES if act in POLICY[role].get(record, frozenset()))


# Managers and researchers see de-identified data only: no calendar, inbox or chart with names.
CALENDAR = may(Record.APPOINTMENT)
OFFICE = may(Record.INQUIRY)
STAFF: frozenset[str] = frozenset(ROLES)
ACCESS_REPORT = may(Record.ACCESS_REPORT)
# Break-glass: asked for by a clinical role that does not already read every record a grant opens.
BREAK_GLASS_ASK = frozenset(
    role
    for role in may(Record.BREAK_GLASS, Act.CREATE)
    if any(Act.VIEW not in POLICY[role].get(record, frozenset()) for record in BREAK_GLASS_RECORDS)
)
# Confirming what a patient reported asks for the clinical record's own right too (`patients.intake.may_confirm`).
INTAKE_CONFIRM = may(Record.INTAKE, Act.CHANGE) & may(Record.EPISODE, Act.CHANGE)


def walk(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            yield from walk(pattern.url_patterns, f"{namespace}:{inner}" if namespace and inner else inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def all_route_names() -> set[str]:
    return set(walk(get_resolver().url_patterns))


# --- The matrix: one row per route ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    # Who succeeds; everyone else gets `refused` (anonymous staff pages send to sign-in: 302).
    allowed: frozenset[str]
    ok: int = 200
    refused: int = 404
    anonymous: int | str | None = None  # what someone not signed in gets, when not `ok` or `refused`


# A redirect to the staff sign-in page (with `?next=`), told apart from any other 302.
SIGN_IN = "302 to sign-in"


def staff(allowed: frozenset[str], method: str = "GET", *, ok: int = 200, refused: int = 404) -> Route:
    """A staff page: whoever is not signed in (the public, a patient's session) is sent to sign in."""
    return Route(method, allowed, ok=ok, refused=refused, anonymous=SIGN_IN)


def outcome(response: Any) -> int | str:
    """The status code, and for a redirect to the staff sign-in page, that it is one."""
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login") + "?next="):
        return SIGN_IN
    return int(response.status_code)


EVERYONE = frozenset(PERSONAS)
ROUTES: dict[str, Route] = {
    "healthz": Route("GET", EVERYONE),
    "website:home": Route("GET", EVERYONE),
    "website:stem_cells": Route("GET", EVERYONE),
    "website:prp": Route("GET", EVERYONE),
    "website:results": Route("GET", EVERYONE),
    "website:office": Route("GET", EVERYONE),
    "website:contact": Route("GET", EVERYONE),
    "website:contact_thanks": Route("GET", EVERYONE),
    "accounts:login": Route("GET", EVERYONE),
    "accounts:logout": Route("POST", EVERYONE, ok=302),
    "scheduling:start": Route("GET", EVERYONE),
    "scheduling:office": Route("GET", EVERYONE),
    "scheduling:details": Route("GET", EVERYONE, ok=400),  # no chosen time: "choose a time" (never a 500)
    "scheduling:callback": Route("GET", EVERYONE),
    "scheduling:callback_thanks": Route("GET", EVERYONE),
    # The patient's booking link: anyone holding it (it is the key); a tampered one is tested elsewhere.
    "scheduling:manage": Route("GET", EVERYONE),
    "scheduling:booked": Route("GET", EVERYONE),
    "scheduling:reschedule": Route("GET", EVERYONE),
    "scheduling:calendar": Route("GET", EVERYONE),
    "scheduling:cancel": Route("POST", EVERYONE, ok=302),
    # Staff pages: lists are a 403 to other roles, records a 404; anonymous visitors are sent to sign in.
    # Where sign-in lands: calendar and inbox roles are sent on to their page, the others see a plain page.
    "website:staff_home": Route("GET", frozenset(STAFF - CALENDAR - OFFICE), refused=302, anonymous=SIGN_IN),
    "website:inbox": staff(OFFICE),
    # "Our results": drafts for whoever may read them (a list page: 403), publishing for physicians.
    "website:results_staff": staff(may(Record.PUBLIC_RESULTS), refused=403),
    "website:results_publish": staff(may(Record.PUBLIC_RESULTS, Act.CHANGE), "POST", ok=302, refused=403),
    "website:inquiry_detail": staff(OFFICE),
    "website:inquiry_status": staff(OFFICE, "POST", ok=302),
    "scheduling:staff_calendar": staff(CALENDAR, refused=403),
    "scheduling:staff_new": staff(CALENDAR, refused=403),
    "scheduling:staff_arrivals": staff(CALENDAR, refused=403),
    "scheduling:staff_callbacks": staff(CALENDAR, refused=403),
    "scheduling:staff_appointment": staff(CALENDAR),
    "scheduling:staff_move": staff(CALENDAR, "POST"),
    "scheduling:staff_cancel": staff(CALENDAR, "POST", ok=302),
    "scheduling:staff_status": staff(CALENDAR, "POST", ok=302),
    "scheduling:staff_callback_done": staff(CALENDAR, "POST", ok=302),
    # A patient's access report: the roles that keep patients' records.
    "accounts:access_report": staff(ACCESS_REPORT),
    "accounts:access_report_csv": staff(may(Record.ACCESS_REPORT, Act.EXPORT)),
    # Break-glass: the form for the roles it opens something to; every grant for whoever oversees them (a list: 403).
    "accounts:break_glass": staff(BREAK_GLASS_ASK),
    "accounts:break_glass_list": staff(may(Record.BREAK_GLASS), refused=403),
    # Each member of staff's own sessions; another's (or none: a random id here) is a 404.
    "accounts:sessions": staff(STAFF),
    "accounts:sessions_end_others": staff(STAFF, "POST", ok=302),
    "accounts:session_end": staff(frozenset(), "POST"),
    "accounts:sign_out_everywhere": staff(STAFF, "POST", ok=302),
    # The second step of sign-in: done already (these personas are fully signed in), so on to the staff
    # home; its set-up page moves the authenticator to a new phone; new recovery codes.
    "accounts:two_step": staff(STAFF, ok=302),
    "accounts:two_step_set_up": staff(STAFF),
    "accounts:recovery_codes": staff(STAFF),
    # Passkeys (django-otp-webauthn's JSON views): removing one is the owner's only (a random id here: 404).
    # Adding one answers the signed-in with its options; the second step's ceremony starts for anyone signed
    # in (here already verified), never for the public (no sign-in by passkey alone: 403). Each is finished
    # here just after its start with an empty answer: 422.
    "accounts:passkey_remove": staff(frozenset(), "POST"),
    "otp_webauthn:credential-registration-begin": Route("POST", STAFF, refused=403),
    "otp_webauthn:credential-registration-complete": Route("POST", frozenset(), refused=422, anonymous=403),
    "otp_webauthn:credential-authentication-begin": Route("POST", STAFF, refused=403),
    "otp_webauthn:credential-authentication-complete": Route("POST", frozenset(), refused=422, anonymous=403),
    # The words of the passkey script, for everyone (no data in them).
    "otp_webauthn:js-i18n-catalog": Route("GET", EVERYONE),
    # The chart: the search is a list (403); a chart, and every edit of one, a record (404).
    "patients:search": staff(may(Record.PATIENT), refused=403),
    "patients:chart": staff(may(Record.PATIENT)),
    "patients:chart_edit": staff(may(Record.PATIENT, Act.CHANGE)),
    "patients:chart_allergy_add": staff(may(Record.PATIENT, Act.CHANGE)),
    "patients:chart_allergy_confirm": staff(may(Record.PATIENT, Act.CHANGE), "POST", ok=302),
    "patients:chart_allergy_deactivate": staff(may(Record.PATIENT, Act.CHANGE), "POST", ok=302),
    "patients:chart_medication_add": staff(may(Record.PATIENT, Act.CHANGE)),
    "patients:chart_medication_confirm": staff(may(Record.PATIENT, Act.CHANGE), "POST", ok=302),
    "patients:chart_medication_stop": staff(may(Record.PATIENT, Act.CHANGE), "POST", ok=302),
    "patients:chart_history": staff(may(Record.PATIENT, Act.CHANGE)),  # the history is an edit form
    "patients:chart_history_confirm": staff(may(Record.PATIENT, Act.CHANGE), "POST", ok=302),
    "patients:chart_merge": staff(may(Record.PATIENT, Act.MERGE)),
    # The intake: the staff review, and the patient's own pages (the session, never an id, says whose).
    "patients:intake_review": staff(may(Record.INTAKE)),
    "patients:intake_confirm": staff(INTAKE_CONFIRM, "POST", ok=302),
    "patients:intake_resend": staff(may(Record.INTAKE, Act.CHANGE), "POST", ok=302),
    # Each patient's session opens their own intake; without one the page says how to get back in (404).
    "patients:intake": Route("GET", LINKS),
    "patients:intake_section": Route("GET", LINKS),
    "patients:intake_done": Route("GET", EVERYONE),  # the thank-you page says nothing about the answers
    # Patient A's link, already used: back to the form in A's own live session; for anyone else it is gone.
    "patients:intake_start": Route("GET", frozenset({LINK_A}), ok=302, refused=410),
    # Episodes and candidacy.
    "patients:assessment_new": staff(may(Record.EPISODE, Act.CREATE)),
    "patients:episode": staff(may(Record.EPISODE)),
    # Consent: the documents are a list (403); an episode's or a signature's pages records (404).
    "patients:consent_documents": staff(may(Record.CONSENT_DOCUMENT), refused=403),
    "patients:consent_sign": staff(may(Record.CONSENT, Act.CREATE) & may(Record.EPISODE)),
    "patients:consent_link_send": staff(may(Record.CONSENT, Act.CHANGE), "POST", ok=302),
    "patients:consent_verify": staff(may(Record.CONSENT)),
    "patients:consent_pdf": staff(may(Record.CONSENT)),
    "patients:consent_withdraw": staff(may(Record.CONSENT, Act.CHANGE) & may(Record.CONSENT)),
    # The patient's consent pages: without a session, "open the link from your email" (404, as the intake's).
    "patients:consent_remote_sign": Route("GET", LINKS),
    "patients:consent_remote_done": Route("GET", LINKS),
    "patients:consent_remote_pdf": Route("GET", LINKS),
    # Patient A's consent link, already used: single use, even for A (410).
    "patients:consent_remote": Route("GET", frozenset(), refused=410),
    # The questionnaire's pages open only from a questionnaire link's session; an intake or consent
    # session opens none of them (404, a page saying how to get back in). outcomes/tests/test_survey.py
    # follows a questionnaire session through them, and another patient's.
    "outcomes:survey": Route("GET", frozenset()),
    "outcomes:survey_step": Route("GET", frozenset()),
    "outcomes:survey_done": Route("GET", frozenset()),
    "outcomes:survey_start": Route("GET", frozenset()),
    # The staff's outcomes pages: the call list is a list (403); a follow-up's or an episode's pages records (404).
    # Typing in answers by phone creates an outcome (the front desk may, without reading scores).
    "outcomes:call_list": staff(may(Record.FOLLOW_UP), refused=403),
    "outcomes:dashboard": staff(may(Record.OUTCOMES_DASHBOARD), refused=403),
    "outcomes:call_record": staff(may(Record.FOLLOW_UP, Act.CHANGE), "POST", ok=302),
    "outcomes:phone_entry": staff(may(Record.OUTCOME, Act.CREATE)),
    "outcomes:timeline": staff(may(Record.OUTCOME)),
    "outcomes:surgery": staff(may(Record.OUTCOME, Act.CHANGE)),
    # The procedure record: the start and the adverse event report ask CREATE, the sign-off SIGN.
    "procedures:start": staff(may(Record.PROCEDURE, Act.CREATE)),
    "procedures:record": staff(may(Record.PROCEDURE)),
    "procedures:section": staff(may(Record.PROCEDURE, Act.CHANGE), "POST", ok=302),
    "procedures:sign": staff(may(Record.PROCEDURE, Act.SIGN)),
    "procedures:amend": staff(may(Record.PROCEDURE, Act.CHANGE)),
    "procedures:verify": staff(may(Record.PROCEDURE)),
    "procedures:pdf": staff(may(Record.PROCEDURE)),
    "procedures:adverse_event_new": staff(may(Record.ADVERSE_EVENT, Act.CREATE)),
    "procedures:adverse_event": staff(may(Record.ADVERSE_EVENT)),
    # Counts without names: a list page (403) the de-identified roles may open.
    "procedures:safety_summary": staff(may(Record.SAFETY_SUMMARY), refused=403),
    # Research exports: the form and the de-identified CSV are an EXPORT (list pages: 403); the identified CSV
    # an OVERRIDE of the de-identification, with a written reason (administrators).
    "interop:exports": staff(may(Record.RESEARCH_EXPORT, Act.EXPORT), refused=403),
    "interop:deidentified_csv": staff(may(Record.RESEARCH_EXPORT, Act.EXPORT), refused=403),
    "interop:identified_csv": staff(may(Record.RESEARCH_EXPORT, Act.OVERRIDE), "POST", refused=403),
    # The outcomes report (PDF, aggregates only): its form and the file are an EXPORT, as the de-identified CSV.
    "interop:report": staff(may(Record.RESEARCH_EXPORT, Act.EXPORT), refused=403),
    "interop:report_pdf": staff(may(Record.RESEARCH_EXPORT, Act.EXPORT), refused=403),
    # The FHIR bulk export (identified): starting it is an OVERRIDE (administrators; refused: 403). Its page, status
    # and files are its requester's only; the world's is an administrator's who is none of the personas, so every
    # member of staff gets a 404, another administrator too (interop/tests/test_bulk.py: the requester's 200s).
    "interop:bulk_start": staff(may(Record.RESEARCH_EXPORT, Act.OVERRIDE), "POST", ok=302, refused=403),
    **{name: staff(frozenset()) for name in ("interop:bulk", "interop:bulk_status", "interop:bulk_file")},
}


def expected_status(route: Route, persona: str) -> int | str:
    if persona in route.allowed:
        return route.ok
    if persona in NOT_STAFF and route.anonymous is not None:
        return route.anonymous
    return route.refused


# --- The world: real rows for every route -----------------------------------------------------------------


@dataclass
class World:
    schedule: Schedule
    appointment: Appointment
    token: str
    inquiry: Inquiry
    callback: CallbackRequest
    email: Email
    reminder: Reminder
    # Patient A (Rosa) and patient B (Luis): a chart each, with an allergy and a medication the patient reported.
    rosa: Patient
    luis: Patient
    allergy: Allergy
    medication: Medication
    luis_allergy: Allergy
    luis_medication: Medication
    # Each one's intake in progress, and the links (intake, consent) their browsers opened.
    intake: Intake
    luis_intake: Intake
    intake_token: str
    consent_token: str
    link_clients: dict[str, Client]
    # Each one's episode with a signed consent; Rosa's has a signed record, one in progress and an adverse event.
    episode: Episode
    luis_episode: Episode
    signature: ConsentSignature
    luis_signature: ConsentSignature
    signed_record: ProcedureRecord
    record: ProcedureRecord
    luis_record: ProcedureRecord
    luis_injection: Injection
    event: AdverseEvent
    # An administrator's finished FHIR bulk export (its requester is none of the personas).
    bulk: BulkExport


REPORT: dict[str, Any] = {
    "kind": "harvest_site_pain",
    "kind_other": "",
    "description": "Aching at the iliac crest.",
    "onset_date": date(2031, 3, 6),
    "grade": 1,
    "serious": False,
    "action": "Ice.",
    "outcome": "recovering",
}


def _fill(record: ProcedureRecord, *, doctor: User, tech: User) -> ProcedureRecord:
    """Every section of the record, saved by whoever does it on the day (procedures.tests.conftest's values)."""
    who = {"doctor": doctor, "tech": tech}
    for section, data, by in SECTIONS_BY:
        record = procedures.procedure_save_section(
            record=record, section=section, data=data, by=who[by], now=at("10:30")
        )
    return record


def _episode(patient: Patient, site: str, side: str, schedule: Schedule) -> Episode:
    return Episode.objects.create(
        patient=patient,
        indication=Indication.OSTEOARTHRITIS,
        site=site,
        side=side,
        physician=schedule.doctor,
        status=Episode.Status.CONSENTED,
    )


def _patient_browser(*tokens: str) -> Client:
    """A patient's browser that opened its intake link, then its consent link."""
    client = Client()
    intake_token, consent_token = tokens
    assert client.get(reverse("patients:intake_start", kwargs={"token": intake_token})).status_code == 302
    assert client.get(reverse("patients:consent_remote", kwargs={"token": consent_token})).status_code == 302
    return client


@pytest.fixture
def world(schedule: Schedule, alice: User, bob: User, charlie: User) -> World:
    from scheduling import services

    with open(os.devnull, "w") as quiet:
        call_command("load_consent_documents", stdout=quiet)
    rosa, luis = schedule.rosa, schedule.luis
    appointment = services.appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(date(2031, 3, 5), "10:00"),
        patient=rosa,
        source=Appointment.Source.STAFF,
        by=alice,
        now=NOW,
    )
    email = Email.objects.get()
    reminder = Reminder.objects.create(
        appointment=appointment,
        offset_minutes=120,
        starts_at=appointment.starts_at,
        due_at=appointment.starts_at - timedelta(hours=2),
        status=Reminder.Status.SKIPPED,
        skip_reason=Reminder.SkipReason.TOO_LATE,
        claimed_at=NOW,
    )
    inquiry = Inquiry.objects.create(name="Ann Example", email="ann@example.com", message="Parking?", client_key="k")
    callback = CallbackRequest.objects.create(office=schedule.la, name="Olga Example", phone="310-555-0142")

    allergy = Allergy.objects.create(patient=rosa, substance="Penicillin", reaction="rash", source=Source.PATIENT)
    medication = Medication.objects.create(patient=rosa, name="Aspirin", dose="81 mg", source=Source.PATIENT)
    luis_allergy = Allergy.objects.create(patient=luis, substance="Latex", source=Source.PATIENT)
    luis_medication = Medication.objects.create(patient=luis, name="Eliquis", source=Source.PATIENT)

    # The booking opened Rosa's intake (and emailed a link, replaced here by one whose token the test knows).
    intake = appointment.intakes.get()
    luis_intake = Intake.objects.create(patient=luis, language="en")
    tokens_of: dict[str, tuple[str, str]] = {}
    episode = _episode(rosa, BodySite.KNEE, Side.RIGHT, schedule)
    luis_episode = _episode(luis, BodySite.HIP, Side.LEFT, schedule)
    for persona, patient, its_intake, its_episode in (
        (LINK_A, rosa, intake, episode),
        (LINK_B, luis, luis_intake, luis_episode),
    ):
        _link, intake_token = links.link_issue(
            purpose=PatientLink.Purpose.INTAKE, patient=patient, target=its_intake.uuid
        )
        _link, consent_token = links.link_issue(
            purpose=PatientLink.Purpose.CONSENT, patient=patient, target=its_episode.uuid
        )
        tokens_of[persona] = (intake_token, consent_token)
    signature = signed_consent(episode)
    luis_signature = signed_consent(luis_episode)

    signed_record = _fill(
        procedures.procedure_start(episode=episode, by=bob, now=at("08:00")), doctor=bob, tech=charlie
    )
    # Rosa answered her baseline questionnaires the week before, as the sign-off asks.
    baseline_answered(episode, at=at("18:00", date(2031, 2, 26)))
    signed_record = procedures.procedure_sign(record=signed_record, by=bob, meaning="I performed it.", now=at("10:45"))
    record = procedures.procedure_start(episode=episode, by=bob, now=at("11:00"))
    luis_record = procedures.procedure_start(episode=luis_episode, by=bob, now=at("08:00"))
    luis_injection = Injection.objects.create(
        record=luis_record,
        target_structure="hip joint",
        site="hip",
        side="left",
        guidance="ultrasound",
        prp_ml=1,
        injected_at=at("10:00"),
    )
    event = procedures.adverse_event_report(
        episode=episode, data={**REPORT, "procedure": signed_record}, by=bob, now=at("12:00", date(2031, 3, 7))
    )
    bulk = BulkExport.objects.create(
        requested_by=User.objects.create_user("bulk-owner", role=Role.ADMIN, is_staff=True),
        requested_at=NOW,
        status=BulkExport.Status.DONE,
        done=2,
        total=2,
        counts={"Patient": 2},
    )
    return World(
        schedule=schedule,
        appointment=appointment,
        token=tokens.manage_token(appointment),
        inquiry=inquiry,
        callback=callback,
        email=email,
        reminder=reminder,
        rosa=rosa,
        luis=luis,
        allergy=allergy,
        medication=medication,
        luis_allergy=luis_allergy,
        luis_medication=luis_medication,
        intake=intake,
        luis_intake=luis_intake,
        intake_token=tokens_of[LINK_A][0],
        consent_token=tokens_of[LINK_A][1],
        link_clients={persona: _patient_browser(*tokens) for persona, tokens in tokens_of.items()},
        episode=episode,
        luis_episode=luis_episode,
        signature=signature,
        luis_signature=luis_signature,
        signed_record=signed_record,
        record=record,
        luis_record=luis_record,
        luis_injection=luis_injection,
        event=event,
        bulk=bulk,
    )


# What each route is asked about, by its URL's parameters (routes without any are left out).
KWARGS: dict[str, Callable[[World], dict[str, Any]]] = {
    "scheduling:office": lambda w: {"office_slug": "los-angeles"},
    "scheduling:details": lambda w: {"office_slug": "los-angeles"},
    "scheduling:callback": lambda w: {"office_slug": "los-angeles"},
    "website:office": lambda w: {"slug": "los-angeles"},
    **{
        f"scheduling:{name}": lambda w: {"token": w.token}
        for name in ("manage", "booked", "reschedule", "calendar", "cancel")
    },
    **{
        f"scheduling:staff_{name}": lambda w: {"uuid": w.appointment.uuid}
        for name in ("appointment", "move", "cancel", "status")
    },
    "scheduling:staff_callback_done": lambda w: {"uuid": w.callback.uuid},
    "website:inquiry_detail": lambda w: {"uuid": w.inquiry.uuid},
    "website:inquiry_status": lambda w: {"uuid": w.inquiry.uuid},
    "accounts:access_report": lambda w: {"uuid": w.rosa.uuid},
    "accounts:access_report_csv": lambda w: {"uuid": w.rosa.uuid},
    "accounts:break_glass": lambda w: {"uuid": w.rosa.uuid},
    "accounts:session_end": lambda w: {"uuid": "00000000-0000-4000-8000-000000000000"},
    "accounts:passkey_remove": lambda w: {"pk": 999999},
    **{
        f"patients:{name}": lambda w: {"uuid": w.rosa.uuid}
        for name in (
            "chart",
            "chart_edit",
            "chart_allergy_add",
            "chart_medication_add",
            "chart_history",
            "chart_history_confirm",
            "assessment_new",
        )
    },
    "patients:chart_allergy_confirm": lambda w: {"uuid": w.rosa.uuid, "item": w.allergy.uuid},
    "patients:chart_allergy_deactivate": lambda w: {"uuid": w.rosa.uuid, "item": w.allergy.uuid},
    "patients:chart_medication_confirm": lambda w: {"uuid": w.rosa.uuid, "item": w.medication.uuid},
    "patients:chart_medication_stop": lambda w: {"uuid": w.rosa.uuid, "item": w.medication.uuid},
    "patients:chart_merge": lambda w: {"uuid": w.rosa.uuid, "other": w.luis.uuid},
    "patients:intake_review": lambda w: {"uuid": w.intake.uuid},
    "patients:intake_confirm": lambda w: {"uuid": w.intake.uuid},
    "patients:intake_resend": lambda w: {"uuid": w.intake.uuid},
    "patients:intake_section": lambda w: {"section": "concerns"},
    "patients:intake_start": lambda w: {"token": w.intake_token},
    "patients:episode": lambda w: {"uuid": w.episode.uuid},
    "patients:consent_sign": lambda w: {"uuid": w.episode.uuid},
    "patients:consent_link_send": lambda w: {"uuid": w.episode.uuid},
    "patients:consent_verify": lambda w: {"uuid": w.signature.uuid},
    "patients:consent_pdf": lambda w: {"uuid": w.signature.uuid},
    "patients:consent_withdraw": lambda w: {"uuid": w.signature.uuid},
    "patients:consent_remote": lambda w: {"token": w.consent_token},
    "outcomes:survey_step": lambda w: {"number": 1},
    "outcomes:survey_start": lambda w: {"token": "a-token-that-was-never-issued-00"},
    # Rosa's signed episode: its 6-week follow-up (scheduled), and the episode itself.
    "outcomes:call_record": lambda w: {"uuid": w.episode.follow_ups.get(timepoint="6w").uuid},
    "outcomes:phone_entry": lambda w: {"uuid": w.episode.follow_ups.get(timepoint="6w").uuid, "instrument": "NRS"},
    "outcomes:timeline": lambda w: {"uuid": w.episode.uuid},
    "outcomes:surgery": lambda w: {"uuid": w.episode.uuid},
    "procedures:start": lambda w: {"episode": w.episode.uuid},
    "procedures:adverse_event_new": lambda w: {"episode": w.episode.uuid},
    "procedures:adverse_event": lambda w: {"uuid": w.event.uuid},
    "procedures:record": lambda w: {"uuid": w.record.uuid},
    "procedures:section": lambda w: {"uuid": w.record.uuid, "section": "rehab"},
    "procedures:sign": lambda w: {"uuid": w.record.uuid},
    # Amending, verifying and printing are for a signed record.
    "procedures:amend": lambda w: {"uuid": w.signed_record.uuid},
    "procedures:verify": lambda w: {"uuid": w.signed_record.uuid},
    "procedures:pdf": lambda w: {"uuid": w.signed_record.uuid},
    "interop:bulk": lambda w: {"uuid": w.bulk.uuid},
    "interop:bulk_status": lambda w: {"uuid": w.bulk.uuid},
    "interop:bulk_file": lambda w: {"uuid": w.bulk.uuid, "resource_type": "Patient"},
}


def path_of(name: str, world: World) -> str:
    return reverse(name, kwargs=KWARGS[name](world) if name in KWARGS else {})


POST_DATA = {
    "website:inquiry_status": {"status": "answered"},
    "website:results_publish": {"indication": "back_pain"},
    "scheduling:staff_status": {"status": "checked_in"},
    "scheduling:staff_move": {"date": "2031-03-05", "time": "11:00"},
    "procedures:section": {"rehab-rehabilitation_protocol": "Crutches 48 hours, then walking."},
    "outcomes:call_record": {"outcome": "no_answer"},
    "interop:identified_csv": {"identified-reason": "Registry submission, approved by the IRB."},
}
# The query a GET route needs to answer its 200 (without it, a form's 400).
GET_DATA = {
    "interop:report_pdf": {"indication": "osteoarthritis", "date_from": "2031-01-01", "date_to": "2031-12-31"},
}


def client_for(persona: str, world: World | None = None) -> Client:
    """The persona's browser: a patient's (from the world), a signed-in member of staff's, or nobody's."""
    if persona in LINKS:
        assert world is not None
        return world.link_clients[persona]
    client = Client()
    if persona != ANONYMOUS:
        user = User.objects.create_user(f"user-{persona}", password="a-password-for-tests", role=persona, is_staff=True)
        sign_in(client, user)
    return client


def ask(client: Client, name: str, world: World) -> Any:
    """The route asked once, with the method it answers."""
    path = path_of(name, world)
    if ROUTES[name].method == "POST":
        return client.post(path, POST_DATA.get(name, {}))
    return client.get(path, GET_DATA.get(name, {}))


def test_every_route_is_in_the_matrix() -> None:
    names = all_route_names()
    admin = {name for name in names if name.startswith("admin:")}
    assert sorted(names - admin - set(ROUTES)) == []
    assert sorted(set(ROUTES) - names) == []
    assert sorted(name for name in admin if admin_rule(name) is None) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_exactly_what_the_matrix_says(world: World, persona: str) -> None:
    client = client_for(persona, world)
    found = {}
    expected = {}
    # Signing out last (everywhere, then here), so every other route is asked as this persona.
    last = {"accounts:sign_out_everywhere": 1, "accounts:logout": 2}
    for name, route in sorted(ROUTES.items(), key=lambda item: (last.get(item[0], 0), item[0])):
        found[name] = outcome(ask(client, name, world))
        expected[name] = expected_status(route, persona)
        if name in {"scheduling:staff_cancel", "scheduling:cancel"}:
            world.appointment.refresh_from_db()
            if world.appointment.status == "cancelled":  # one cancel per persona is enough; book it again
                Appointment.objects.filter(pk=world.appointment.pk).update(status="booked", cancelled_at=None)
    assert found == expected


def test_the_matrix_reads_the_policy() -> None:
    """A few rows spelled out, so a policy read the wrong way round (or not at all) shows here."""
    rows = {name: sorted(ROUTES[name].allowed) for name in ("patients:chart", "procedures:sign", "patients:intake")}
    assert rows == {
        "patients:chart": sorted(
            [Role.FRONT_DESK, Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.TECHNICIAN, Role.ADMIN]
        ),
        "procedures:sign": [Role.PHYSICIAN],
        "patients:intake": [LINK_A, LINK_B],
    }
    assert sorted(INTAKE_CONFIRM) == sorted([Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT])
    assert sorted(BREAK_GLASS_ASK) == [Role.TECHNICIAN]
    # Managers and researchers reach nothing that names a patient: only the counts, the staff home and
    # their own sessions; the manager also the break-glass grants (a chart's number, never a name).
    for role, oversight in ((Role.MANAGER, ["accounts:break_glass_list"]), (Role.RESEARCHER, [])):
        assert sorted(
            name for name, route in ROUTES.items() if role in route.allowed and route.allowed != EVERYONE
        ) == [
            *oversight,
            "accounts:recovery_codes",
            "accounts:sessions",
            "accounts:sessions_end_others",
            "accounts:sign_out_everywhere",
            "accounts:two_step",
            "accounts:two_step_set_up",
            "interop:deidentified_csv",
            "interop:exports",
            "interop:report",
            "interop:report_pdf",
            "otp_webauthn:credential-authentication-begin",
            "otp_webauthn:credential-registration-begin",
            "outcomes:dashboard",
            "procedures:safety_summary",
            "website:results_staff",
            "website:staff_home",
        ]


# --- Patients' sessions: each sees only their own -----------------------------------------------------------


def _state() -> dict[str, list[Any]]:
    """What an attempt must leave as it was: every row a route here could change, field by field."""
    return {
        "allergies": list(Allergy.objects.order_by("pk").values_list("pk", "patient", "confirmed_at", "is_active")),
        "medications": list(
            Medication.objects.order_by("pk").values_list("pk", "patient", "confirmed_at", "is_active")
        ),
        "patients": list(Patient.objects.order_by("pk").values_list("pk", "merged_into", "updated_at")),
        "intakes": list(Intake.objects.order_by("pk").values_list("pk", "patient", "status", "answers")),
        "links": list(PatientLink.objects.order_by("pk").values_list("pk", "used_at", "revoked_at")),
        "episodes": list(Episode.objects.order_by("pk").values_list("pk", "status")),
        "signatures": list(ConsentSignature.objects.order_by("pk").values_list("pk", "withdrawn_at")),
        "records": list(
            ProcedureRecord.objects.order_by("pk").values_list("pk", "status", "rehabilitation_protocol", "updated_at")
        ),
        "injections": list(Injection.objects.order_by("pk").values_list("pk", "record")),
        "events": list(AdverseEvent.objects.order_by("pk").values_list("pk", "related_to_harvest", "adjudicated_at")),
        "appointments": list(Appointment.objects.order_by("pk").values_list("pk", "status", "starts_at")),
        "inquiries": list(Inquiry.objects.order_by("pk").values_list("pk", "status")),
        "emails": list(Email.objects.order_by("pk").values_list("pk", flat=True)),
    }


def test_each_patient_s_pages_show_their_own_intake_and_consent_only(world: World) -> None:
    seen = {}
    for persona, name in ((LINK_A, "Patient1"), (LINK_B, "Patient2")):
        client = world.link_clients[persona]
        pages = [client.get(path) for path in ("/intake/", "/intake/concerns/", "/consent/", "/consent/done/")]
        pdf = client.get("/consent/copy.pdf")
        seen[persona] = (
            [page.status_code for page in pages],
            pages[0].context["intake"],
            pages[1].context["intake"],
            pages[2].context["episode"],
            pdf.content,
            # The other patient's first name appears on none of them.
            [("Patient2" if name == "Patient1" else "Patient1") in page.content.decode() for page in pages],
        )
    assert seen == {
        LINK_A: ([200] * 4, world.intake, world.intake, world.episode, bytes(world.signature.pdf), [False] * 4),
        LINK_B: (
            [200] * 4,
            world.luis_intake,
            world.luis_intake,
            world.luis_episode,
            bytes(world.luis_signature.pdf),
            [False] * 4,
        ),
    }


CONCERNS = {
    "go": "next",
    "areas-TOTAL_FORMS": "1",
    "areas-INITIAL_FORMS": "0",
    "areas-0-site": "knee",
    "areas-0-side": "right",
    "areas-0-duration": "1_2_years",
    "areas-0-other": "",
    "pain_now": "6",
}


def test_patient_b_s_session_cannot_reach_patient_a_s_intake_or_consent(world: World) -> None:
    b = world.link_clients[LINK_B]
    before = _state()
    # A's links, already used by A's browser: gone for B (and B's visit uses nothing up).
    gone = [
        b.get(reverse("patients:intake_start", kwargs={"token": world.intake_token})).status_code,
        b.get(reverse("patients:consent_remote", kwargs={"token": world.consent_token})).status_code,
    ]
    assert (gone, _state()) == ([410, 410], before)
    # B's session still opens B's own intake and consent, not A's.
    assert (b.get("/intake/").context["intake"], b.get("/consent/").context["episode"]) == (
        world.luis_intake,
        world.luis_episode,
    )
    # What B sends lands in B's intake; A's stays as it was.
    assert b.post("/intake/concerns/", CONCERNS).status_code == 302
    world.intake.refresh_from_db()
    world.luis_intake.refresh_from_db()
    assert (world.intake.answers, sorted(world.luis_intake.answers)) == ({}, ["concerns"])


def test_a_link_of_one_purpose_opens_nothing_on_the_other_s_page(world: World) -> None:
    """A fresh (unused) intake link on the consent page, and a consent link on the intake page: 404, still unused."""
    _link, intake_token = links.link_issue(
        purpose=PatientLink.Purpose.INTAKE, patient=world.rosa, target=world.intake.uuid
    )
    _link, consent_token = links.link_issue(
        purpose=PatientLink.Purpose.CONSENT, patient=world.rosa, target=world.episode.uuid
    )
    before = _state()
    client = Client()
    codes = [
        client.get(reverse("patients:consent_remote", kwargs={"token": intake_token})).status_code,
        client.get(reverse("patients:intake_start", kwargs={"token": consent_token})).status_code,
        client.get("/intake/").status_code,
        client.get("/consent/").status_code,
    ]
    assert (codes, _state()) == ([404, 404, 404, 404], before)


# --- Staff: another patient's row under a patient's URL, an id of another kind ------------------------------


@pytest.mark.parametrize("persona", [Role.FRONT_DESK, Role.PHYSICIAN])
def test_another_patient_s_allergy_or_medication_under_a_chart_is_a_404_and_changes_nothing(
    world: World, persona: str
) -> None:
    client = client_for(persona, world)
    rosa = world.rosa.uuid
    attempts = {
        "patients:chart_allergy_confirm": {"uuid": rosa, "item": world.luis_allergy.uuid},
        "patients:chart_allergy_deactivate": {"uuid": rosa, "item": world.luis_allergy.uuid},
        "patients:chart_medication_confirm": {"uuid": rosa, "item": world.luis_medication.uuid},
        "patients:chart_medication_stop": {"uuid": rosa, "item": world.luis_medication.uuid},
        # Rosa's own rows, but of the other kind.
        "patients:chart_medication_stop ": {"uuid": rosa, "item": world.allergy.uuid},
        "patients:chart_allergy_deactivate ": {"uuid": rosa, "item": world.medication.uuid},
    }
    before = _state()
    found = {name: client.post(reverse(name.strip(), kwargs=kwargs)).status_code for name, kwargs in attempts.items()}
    assert (found, _state()) == (dict.fromkeys(attempts, 404), before)


def _kinds(world: World) -> dict[Any, tuple[str, str]]:
    """The public id of rows of each kind the staff pages name: id -> (kind, which row)."""
    return {
        world.rosa.uuid: ("patient", "Rosa"),
        world.luis.uuid: ("patient", "Luis"),
        world.allergy.uuid: ("allergy", "Rosa's allergy"),
        world.medication.uuid: ("medication", "Rosa's medication"),
        world.intake.uuid: ("intake", "Rosa's intake"),
        world.episode.uuid: ("episode", "Rosa's episode"),
        world.signature.uuid: ("signature", "Rosa's consent"),
        world.record.uuid: ("record", "the record in progress"),
        world.signed_record.uuid: ("record", "the signed record"),
        world.event.uuid: ("event", "the adverse event"),
        world.appointment.uuid: ("appointment", "Rosa's appointment"),
        world.callback.uuid: ("callback", "the call-back request"),
        world.inquiry.uuid: ("inquiry", "the inquiry"),
    }


# Who asks, for each route: a role the policy lets in (the physician where it may, then the front desk, ...).
ASKERS = (Role.PHYSICIAN, Role.FRONT_DESK, Role.TECHNICIAN, Role.ADMIN)


def test_an_id_of_another_kind_on_any_staff_route_is_a_404_and_changes_nothing(world: World) -> None:
    """Every staff route with an id, asked by a role it lets in, with the id of every other kind of row in its place."""
    kinds = _kinds(world)
    clients = {role: client_for(role, world) for role in ASKERS}
    before = _state()
    found, expected = {}, {}
    for name, route in sorted(ROUTES.items()):
        if route.anonymous != SIGN_IN or name not in KWARGS:
            continue
        asker = next((role for role in ASKERS if role in route.allowed), None)
        if asker is None:  # only a record's owner may (a FHIR bulk export): interop/tests/test_bulk.py swaps its id
            continue
        kwargs = KWARGS[name](world)
        for key, value in kwargs.items():
            if value not in kinds:
                continue
            for other, (kind, row) in kinds.items():
                if kind == kinds[value][0]:
                    continue
                path = reverse(name, kwargs={**kwargs, key: other})
                data = POST_DATA.get(name, {})
                response = clients[asker].post(path, data) if route.method == "POST" else clients[asker].get(path)
                found[(name, key, row)] = response.status_code
                expected[(name, key, row)] = 404
    # Every id of every staff route, each replaced by the id of every row of another kind (11 or 12 of them).
    assert len(found) == 542
    assert found == expected
    assert _state() == before


def test_merging_with_something_that_is_not_a_chart_is_a_404_and_merges_nothing(world: World) -> None:
    client = client_for(Role.FRONT_DESK, world)
    before = _state()
    codes = []
    for other in (world.episode.uuid, world.allergy.uuid, world.luis_intake.uuid):
        path = reverse("patients:chart_merge", kwargs={"uuid": world.rosa.uuid, "other": other})
        codes.append(client.get(path).status_code)
        codes.append(client.post(path, {"survivor": str(world.rosa.uuid), "reason": "Same person"}).status_code)
    assert (codes, _state()) == ([404] * 6, before)


def test_another_record_s_injection_is_not_removed_nor_amended_through_this_record(world: World) -> None:
    client = client_for(Role.PHYSICIAN, world)
    before = _state()
    removed = client.post(
        reverse("procedures:section", kwargs={"uuid": world.record.uuid, "section": "injections"}),
        {"action": "remove", "injection": str(world.luis_injection.uuid)},
    )
    amended = client.get(
        reverse("procedures:amend", kwargs={"uuid": world.signed_record.uuid})
        + f"?section=injection&injection={world.luis_injection.uuid}"
    )
    assert (removed.status_code, amended.status_code) == (404, 404)
    assert _state() == before


def test_another_episode_s_procedure_or_appointment_is_refused_and_nothing_is_recorded(world: World) -> None:
    client = client_for(Role.PHYSICIAN, world)
    before = _state()
    event = client.post(
        reverse("procedures:adverse_event_new", kwargs={"episode": world.episode.uuid}),
        {**REPORT, "onset_date": "2031-03-06", "serious": "no", "procedure": str(world.luis_record.uuid)},
    )
    started = client.post(
        reverse("procedures:start", kwargs={"episode": world.luis_episode.uuid}),
        {"appointment": str(world.appointment.uuid)},
    )
    assert (event.status_code, started.status_code) == (404, 404)
    assert _state() == before


def test_an_id_in_a_form_body_outside_the_page_s_choices_leaves_one_denied_row_naming_it(world: World) -> None:
    client = client_for(Role.PHYSICIAN, world)
    unknown = "00000000-0000-4000-8000-000000000000"
    for asked in (str(world.luis_record.uuid), unknown):
        audit_clear()
        response = client.post(
            reverse("procedures:adverse_event_new", kwargs={"episode": world.episode.uuid}),
            {**REPORT, "onset_date": "2031-03-06", "serious": "no", "procedure": asked},
        )
        assert response.status_code == 404
        assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "patient", "outcome")) == [
            ("view", "procedure", asked, None, "denied")
        ]


# --- The admin: the same policy for the records of patients, superusers for the practice's settings --------

POLICY_ADMINS = {
    "patients_patient": ("PATIENT", True),
    "scheduling_appointment": ("APPOINTMENT", False),
    "scheduling_callbackrequest": ("CALLBACK", False),
    "scheduling_reminder": ("REMINDER", False),
    "outbox_email": ("EMAIL", False),
    "website_inquiry": ("INQUIRY", False),
}
VIEWS = ("changelist", "change", "history", "simple_history", "add", "delete")
SITE_VIEWS = {"index", "login", "logout", "password_change", "password_change_done", "jsi18n", "app_list",
              "autocomplete", "view_on_site", "auth_user_password_change"}  # fmt: skip


def admin_rule(name: str) -> tuple[str, str] | None:
    """(model key, view) of an admin route name, or ("site", view); None if unknown."""
    short = name.removeprefix("admin:")
    if short in SITE_VIEWS:
        return ("site", short)
    for view in sorted(VIEWS, key=len, reverse=True):
        if short.endswith("_" + view):
            return (short.removesuffix("_" + view), view)
    return None


def admin_expected(model: str, view: str, persona: str) -> int:
    from accounts.access import POLICY, Act, Record

    if persona in NOT_STAFF:
        return 302
    if model not in POLICY_ADMINS:
        return 403  # the practice's settings, users, tasks: superusers only
    record, editable = POLICY_ADMINS[model]
    acts = POLICY[persona].get(Record[record], frozenset())
    if Act.VIEW not in acts:
        # A record is a 404 (never confirming it exists); the list and the add form a 403.
        return 404 if view in {"change", "history", "delete"} else 403
    if view == "delete":
        return 403
    if view == "add":
        return 200 if editable and Act.CREATE in acts else 403
    return 200


def admin_objects(world: World) -> dict[str, Any]:
    return {
        "patients_patient": world.schedule.rosa,
        "scheduling_appointment": world.appointment,
        "scheduling_callbackrequest": world.callback,
        "scheduling_reminder": world.reminder,
        "outbox_email": world.email,
        "website_inquiry": world.inquiry,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_applies_the_policy_to_patients_records(world: World, persona: str) -> None:
    client = client_for(persona, world)
    objects = admin_objects(world)
    found, expected = {}, {}
    for model, instance in objects.items():
        app, name = model.split("_", 1)
        base = f"/admin/{app}/{name}/"
        paths = {
            "changelist": base,
            "add": base + "add/",
            "change": f"{base}{instance.pk}/change/",
            "history": f"{base}{instance.pk}/history/",
            "delete": f"{base}{instance.pk}/delete/",
        }
        for view, path in paths.items():
            found[(model, view)] = client.get(path).status_code
            expected[(model, view)] = admin_expected(model, view, persona)
    for path in ("/admin/website/practice/", "/admin/scheduling/bookingrules/", "/admin/accounts/user/"):
        found[(path, "changelist")] = client.get(path).status_code
        expected[(path, "changelist")] = 302 if persona in NOT_STAFF else 403
    assert found == expected


def _holds_patient_data(model: Any) -> bool:
    """A model whose rows name a patient, directly or through an episode, a follow-up, a record or a response."""
    from outcomes.models import FollowUp, Response
    from patients.models import Episode, Patient
    from procedures.models import ProcedureRecord

    owners = (Patient, Episode, FollowUp, ProcedureRecord, Response)
    return model in owners or any(
        getattr(field, "related_model", None) in owners for field in model._meta.get_fields() if field.many_to_one
    )


def test_every_admin_page_of_patient_data_goes_through_the_policy() -> None:
    """A model holding patient data in the admin without `AuditedAdmin` (the policy, the audit) fails here."""
    from django.contrib import admin

    from accounts.admin_access import AuditedAdmin

    outside = sorted(
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if _holds_patient_data(model) and not isinstance(model_admin, AuditedAdmin)
    )
    # The audit log names patients but holds no health information; its admin is the superusers' (Django's
    # own permissions), read-only, and `verify_audit` is how anyone else checks it.
    assert outside == ["accounts.AuditEvent"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_audited_admin_list_is_open_exactly_to_the_roles_the_policy_lets_view_it(
    world: World, persona: str
) -> None:
    from django.contrib import admin

    from accounts.access import POLICY, Act
    from accounts.admin_access import AuditedAdmin

    client = client_for(persona, world)
    found, expected = {}, {}
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, AuditedAdmin):
            continue
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        found[path] = client.get(path).status_code
        if persona in NOT_STAFF:
            expected[path] = 302
        else:
            expected[path] = 200 if Act.VIEW in POLICY[persona].get(model_admin.record, frozenset()) else 403
    assert len(found) >= 20
    assert found == expected


def test_reading_a_patient_in_the_admin_leaves_one_audit_row_naming_them(world: World) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    audit_clear()
    assert client.get(f"/admin/patients/patient/{rosa.pk}/change/").status_code == 200
    assert client.get(f"/admin/patients/patient/{rosa.pk}/history/").status_code == 200
    assert client.get("/admin/patients/patient/").status_code == 200
    rows = list(AuditEvent.objects.order_by("id").values_list("action", "object_type", "object_ref", "patient", "role"))
    assert rows == [
        ("view", "patient", str(rosa.uuid), rosa.pk, "front_desk"),
        ("view", "patient", str(rosa.uuid), rosa.pk, "front_desk"),
        ("view", "patient", "admin:list", None, "front_desk"),
    ]


def test_a_change_in_the_admin_and_its_audit_row_commit_together(world: World) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    audit_clear()
    form = {
        "first_name": "Rosa",
        "last_name": "Example",
        "date_of_birth": "1960-01-01",
        "email": rosa.email,
        "phone": "(310) 555-0100",
        "preferred_language": "en",
        "sex": "unknown",
    }
    assert client.post(f"/admin/patients/patient/{rosa.pk}/change/", form).status_code == 302
    rosa.refresh_from_db()
    assert (rosa.first_name, rosa.history.first().history_user.username) == ("Rosa", "user-front_desk")
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "patient")) == [
        ("change", "patient", str(rosa.uuid), rosa.pk)
    ]
    # A refused edit (a bad date) changes nothing and records nothing.
    audit_clear()
    bad = client.post(f"/admin/patients/patient/{rosa.pk}/change/", {**form, "date_of_birth": "soon"})
    assert bad.status_code == 200
    assert AuditEvent.objects.filter(action="change").count() == 0


def test_who_opened_a_patients_records_is_one_query(world: World, django_assert_num_queries: Any) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    audit_clear()  # the world's set-up read Rosa's records too (her links, opened)
    client.get(f"/staff/calendar/appointments/{world.appointment.uuid}/")
    client.get(f"/admin/patients/patient/{rosa.pk}/change/")
    with django_assert_num_queries(1):
        opened = list(
            AuditEvent.objects.filter(patient=rosa, action="view").values_list("actor__username", "object_type")
        )
    assert opened == [("user-front_desk", "patient"), ("user-front_desk", "appointment")]
