"""Exactly one audit row for each request to a page that shows health information, and one for each refusal.

Parametrised over every GET route of `test_url_role_matrix.ROUTES` that shows a patient's
health information (a chart, an intake, an episode, a consent, a procedure record, an
adverse event, an access report) and the de-identified safety summary; a GET route added
to the matrix must be classified here, as showing health information or not. Each route
is asked by every persona on the matrix's world:

- a persona the policy lets in: exactly one new row, "allowed", naming the patient the
  page is about (a patient's own pages: no actor, the role "patient", that patient);
- a member of staff it refuses: exactly the one "denied" row `accounts.access` writes
  (`get_for_user`: the act asked, the kind of record, the public id asked for, no patient;
  `require`: the same without an id), so a refused lookup never says whose record it was;
- anyone not signed in on a staff page (sent to sign in), and anyone without a patient
  session on a patient's page: no row (nothing was looked up).

The staff actions (POST) likewise: a refused one leaves exactly one "denied" row, also
when the lookup let the person in and the action itself refuses them (that row may name
the patient: the person can see the record).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse

from accounts.access import Act, Record
from accounts.audit import PATIENT_ROLE
from accounts.models import AuditEvent, Role
from accounts.tests.audit import audit_clear
from accounts.tests.test_url_role_matrix import (
    ANONYMOUS,
    KWARGS,
    LINK_A,
    LINKS,
    PERSONAS,
    ROUTES,
    SIGN_IN,
    STAFF,
    World,
    ask,
    client_for,
    expected_status,
    may,
    outcome,
    world,
)
from patients.models import Patient

__all__ = ["world"]

pytestmark = pytest.mark.django_db

# (action, kind of record, public id, patient) of one audit row, the actor and role being the persona's.
Row = tuple[str, str, str, Patient | None]
V, C, N, X = "view", "change", "create", "export"


def _action(act: Act) -> str:
    """The action `accounts.access` records for a refused `act` (a merge or an override is a change)."""
    return {Act.VIEW: V, Act.CREATE: N, Act.EXPORT: X, Act.SIGN: "sign"}.get(act, C)


def chart(w: World, persona: str) -> list[Row]:
    return [(V, "patient", str(w.rosa.uuid), w.rosa)]


def refused(act: Act, record: Record, ref: Callable[[World], Any] | None = None) -> Callable[[World], Row]:
    """The denied row: `get_for_user`'s names the id asked for (`ref`), `require`'s none; neither the patient."""
    return lambda w: (_action(act), str(record), str(ref(w)) if ref else "", None)


def _own_intake(w: World, persona: str) -> list[Row]:
    intake = w.intake if persona == LINK_A else w.luis_intake
    return [(V, "intake", str(intake.uuid), intake.patient)]


def _own_consent(w: World, persona: str) -> list[Row]:
    episode = w.episode if persona == LINK_A else w.luis_episode
    return [(V, "consent", str(episode.uuid), episode.patient)]


def _own_copy(w: World, persona: str) -> list[Row]:
    signature = w.signature if persona == LINK_A else w.luis_signature
    return [(X, "consent", str(signature.uuid), signature.episode.patient)]


def _six_weeks(w: World) -> Any:
    return w.episode.follow_ups.get(timepoint="6w")


def _calls_ref() -> str:
    from django.utils import timezone

    from outcomes.invitations import call_list

    today = timezone.localdate()
    return f"calls:{today.isoformat()}:{call_list(today=today).count()}"


def _no_one(w: World, persona: str) -> list[Row]:
    raise AssertionError(f"{persona} has no questionnaire session in the matrix's world")


def rosa(w: World) -> Any:
    return w.rosa.uuid


# Each page: the rows an allowed persona leaves, and the row a refused member of staff leaves (None: none).
HEALTH: dict[str, tuple[Callable[[World, str], list[Row]], Callable[[World], Row] | None]] = {
    "patients:chart": (chart, refused(Act.VIEW, Record.PATIENT, rosa)),
    # The edit forms show the chart: a read, though the lookup asked for the right to change it.
    "patients:chart_edit": (chart, refused(Act.CHANGE, Record.PATIENT, rosa)),
    "patients:chart_allergy_add": (chart, refused(Act.CHANGE, Record.PATIENT, rosa)),
    "patients:chart_medication_add": (chart, refused(Act.CHANGE, Record.PATIENT, rosa)),
    "patients:chart_history": (chart, refused(Act.CHANGE, Record.PATIENT, rosa)),
    # Two charts side by side: one row for each patient shown.
    "patients:chart_merge": (
        lambda w, p: [(V, "patient", str(w.rosa.uuid), w.rosa), (V, "patient", str(w.luis.uuid), w.luis)],
        refused(Act.MERGE, Record.PATIENT),
    ),
    "patients:assessment_new": (chart, refused(Act.CREATE, Record.EPISODE, rosa)),
    "patients:intake_review": (
        lambda w, p: [(V, "intake", str(w.intake.uuid), w.rosa)],
        refused(Act.VIEW, Record.INTAKE, lambda w: w.intake.uuid),
    ),
    "patients:episode": (
        lambda w, p: [(V, "episode", str(w.episode.uuid), w.rosa)],
        refused(Act.VIEW, Record.EPISODE, lambda w: w.episode.uuid),
    ),
    "patients:consent_sign": (
        lambda w, p: [(V, "episode", str(w.episode.uuid), w.rosa)],
        refused(Act.CREATE, Record.CONSENT),
    ),
    "patients:consent_verify": (
        lambda w, p: [(V, "consent", str(w.signature.uuid), w.rosa)],
        refused(Act.VIEW, Record.CONSENT, lambda w: w.signature.uuid),
    ),
    "patients:consent_pdf": (
        lambda w, p: [(V, "consent", str(w.signature.uuid), w.rosa)],
        refused(Act.VIEW, Record.CONSENT, lambda w: w.signature.uuid),
    ),
    "patients:consent_withdraw": (
        lambda w, p: [(V, "consent", str(w.signature.uuid), w.rosa)],
        refused(Act.CHANGE, Record.CONSENT),
    ),
    "procedures:start": (
        lambda w, p: [(V, "episode", str(w.episode.uuid), w.rosa)],
        refused(Act.CREATE, Record.PROCEDURE, lambda w: w.episode.uuid),
    ),
    "procedures:record": (
        lambda w, p: [(V, "procedure", str(w.record.uuid), w.rosa)],
        refused(Act.VIEW, Record.PROCEDURE, lambda w: w.record.uuid),
    ),
    "procedures:sign": (
        lambda w, p: [(V, "procedure", str(w.record.uuid), w.rosa)],
        refused(Act.SIGN, Record.PROCEDURE, lambda w: w.record.uuid),
    ),
    "procedures:amend": (
        lambda w, p: [(V, "procedure", str(w.signed_record.uuid), w.rosa)],
        refused(Act.CHANGE, Record.PROCEDURE, lambda w: w.signed_record.uuid),
    ),
    "procedures:verify": (
        lambda w, p: [(V, "procedure", str(w.signed_record.uuid), w.rosa)],
        refused(Act.VIEW, Record.PROCEDURE, lambda w: w.signed_record.uuid),
    ),
    "procedures:pdf": (
        lambda w, p: [(V, "procedure", str(w.signed_record.uuid), w.rosa)],
        refused(Act.VIEW, Record.PROCEDURE, lambda w: w.signed_record.uuid),
    ),
    "procedures:adverse_event_new": (
        lambda w, p: [(V, "episode", str(w.episode.uuid), w.rosa)],
        refused(Act.CREATE, Record.ADVERSE_EVENT, lambda w: w.episode.uuid),
    ),
    "procedures:adverse_event": (
        lambda w, p: [(V, "adverse_event", str(w.event.uuid), w.rosa)],
        refused(Act.VIEW, Record.ADVERSE_EVENT, lambda w: w.event.uuid),
    ),
    "accounts:access_report": (
        lambda w, p: [(V, "access_report", str(w.rosa.uuid), w.rosa)],
        refused(Act.VIEW, Record.ACCESS_REPORT, rosa),
    ),
    "accounts:access_report_csv": (
        lambda w, p: [(X, "access_report", str(w.rosa.uuid), w.rosa)],
        refused(Act.EXPORT, Record.ACCESS_REPORT, rosa),
    ),
    # Asking for break-glass shows the chart's name: a read of the chart.
    "accounts:break_glass": (
        lambda w, p: [(V, "patient", str(w.rosa.uuid), w.rosa)],
        refused(Act.CREATE, Record.BREAK_GLASS),
    ),
    # Every grant, with chart numbers and reasons: one row for the page, naming how many it listed.
    "accounts:break_glass_list": (
        lambda w, p: [(V, "break_glass", "grants:0", None)],
        refused(Act.VIEW, Record.BREAK_GLASS),
    ),
    # Counts without names: its row names no patient.
    "procedures:safety_summary": (
        lambda w, p: [(V, "safety_summary", "safety:all", None)],
        refused(Act.VIEW, Record.SAFETY_SUMMARY),
    ),
    # The de-identified research CSV: one export row naming the selection (here all of it), no patient.
    "interop:deidentified_csv": (
        lambda w, p: [(X, "research_export", "csv:deidentified:all", None)],
        refused(Act.EXPORT, Record.RESEARCH_EXPORT),
    ),
    # The outcomes report (PDF): one export row naming the indication and the dates, no patient.
    "interop:report_pdf": (
        lambda w, p: [(X, "research_export", "pdf:report:osteoarthritis:2031-01-01..2031-12-31", None)],
        refused(Act.EXPORT, Record.RESEARCH_EXPORT),
    ),
    # A FHIR bulk export's file: its requester only (one export row each; interop/tests/test_bulk.py), so here,
    # where she is none of the personas, every member of staff leaves the one denied row naming the export.
    "interop:bulk_file": (
        lambda w, p: [(X, "research_export", f"fhir:bulk:{w.bulk.uuid.hex}:Patient", None)],
        refused(Act.OVERRIDE, Record.RESEARCH_EXPORT, lambda w: w.bulk.uuid),
    ),
    # "Our results": the drafts (counts without names) for review; the row names no patient.
    "website:results_staff": (
        lambda w, p: [(V, "public_results", "results:drafts", None)],
        refused(Act.VIEW, Record.PUBLIC_RESULTS),
    ),
    # The outcomes dashboard: counts without names; its row names the indication shown.
    "outcomes:dashboard": (
        lambda w, p: [(V, "outcomes_dashboard", "dashboard:osteoarthritis", None)],
        refused(Act.VIEW, Record.OUTCOMES_DASHBOARD),
    ),
    "scheduling:staff_appointment": (
        lambda w, p: [(V, "appointment", str(w.appointment.uuid), w.rosa)],
        refused(Act.VIEW, Record.APPOINTMENT, lambda w: w.appointment.uuid),
    ),
    # The patient's own pages: whichever patient's session it is, that patient's row; no session, nothing looked up.
    "patients:intake": (_own_intake, None),
    "patients:intake_section": (_own_intake, None),
    "patients:consent_remote_sign": (_own_consent, None),
    "patients:consent_remote_pdf": (_own_copy, None),
    # The front desk's call list: one row naming the day and how many it listed, never who.
    "outcomes:call_list": (
        lambda w, p: [(V, "follow_up", _calls_ref(), None)],
        refused(Act.VIEW, Record.FOLLOW_UP),
    ),
    "outcomes:phone_entry": (
        lambda w, p: [(V, "follow_up", str(_six_weeks(w).uuid), w.rosa)],
        refused(Act.CREATE, Record.OUTCOME, lambda w: _six_weeks(w).uuid),
    ),
    "outcomes:timeline": (
        lambda w, p: [(V, "outcome", str(w.episode.uuid), w.rosa)],
        refused(Act.VIEW, Record.OUTCOME, lambda w: w.episode.uuid),
    ),
    "outcomes:surgery": (
        lambda w, p: [(V, "outcome", str(w.episode.uuid), w.rosa)],
        refused(Act.CHANGE, Record.OUTCOME, lambda w: w.episode.uuid),
    ),
    # The questionnaire's pages: no persona of the world holds a questionnaire session, so none is let in
    # and none leaves a row; outcomes/tests/test_survey.py counts the rows of a questionnaire session.
    **dict.fromkeys(("outcomes:survey", "outcomes:survey_step", "outcomes:survey_done"), (_no_one, None)),
}

# The GET routes that show no health information, and what they show instead.
NOT_HEALTH = {
    **dict.fromkeys(
        (
            "healthz",
            "website:home",
            "website:stem_cells",
            "website:prp",
            "website:results",
            "website:office",
            "website:contact",
            "website:contact_thanks",
            "accounts:login",
            "scheduling:start",
            "scheduling:office",
            "scheduling:details",
            "scheduling:callback",
            "scheduling:callback_thanks",
        ),
        "the public website",
    ),
    # The booking link's pages: the visit's time and place, no health information (`scheduling.tokens`).
    **dict.fromkeys(
        ("scheduling:manage", "scheduling:booked", "scheduling:reschedule", "scheduling:calendar"), "a booking"
    ),
    "website:staff_home": "the staff home",
    "accounts:sessions": "the person's own sessions (browser, address, times)",
    # The second step of sign-in (its own audit rows: each code, right or wrong; a set-up; new codes).
    "accounts:two_step": "the second step of sign-in",
    "accounts:two_step_set_up": "setting up an authenticator",
    "accounts:recovery_codes": "the person's own recovery codes",
    "otp_webauthn:js-i18n-catalog": "the words the passkey script shows",
    "website:inbox": "the website's inquiries",
    "website:inquiry_detail": "a website inquiry",
    "scheduling:staff_calendar": "a list of appointments",
    "scheduling:staff_new": "the booking form",
    "scheduling:staff_arrivals": "a list of appointments",
    "scheduling:staff_callbacks": "a list of call-back requests",
    "patients:search": "the search form",
    "patients:consent_documents": "the consent documents",
    "interop:exports": "the export forms",
    "interop:bulk": "a FHIR bulk export's progress (counts of patients and resources)",
    "interop:bulk_status": "a FHIR bulk export's progress (counts of patients and resources)",
    "interop:report": "the outcomes report's form",
    "patients:intake_done": "a thank-you page",
    "patients:intake_start": "a link, already used (410)",
    "patients:consent_remote": "a link, already used (410)",
    "outcomes:survey_start": "a link never issued (404)",
    "patients:consent_remote_done": "a thank-you page (whether a consent is signed)",
}


def test_every_get_route_is_classified() -> None:
    gets = {name for name, route in ROUTES.items() if route.method == "GET"}
    assert sorted(gets - set(HEALTH) - set(NOT_HEALTH)) == []
    assert sorted(set(HEALTH) & set(NOT_HEALTH)) == []
    assert sorted((set(HEALTH) | set(NOT_HEALTH)) - gets) == []


def rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("seq").values_list(
            "actor__username", "role", "action", "object_type", "object_ref", "patient", "outcome"
        )
    )


def as_rows(persona: str, shown: list[Row], result: str) -> list[tuple[Any, ...]]:
    actor, role = (None, PATIENT_ROLE) if persona in LINKS else (f"user-{persona}", str(persona))
    return [
        (actor, role, action, kind, ref, patient.pk if patient is not None else None, result)
        for action, kind, ref, patient in shown
    ]


@pytest.mark.parametrize("name", sorted(HEALTH))
def test_each_request_leaves_exactly_its_one_audit_row(world: World, name: str) -> None:
    route = ROUTES[name]
    shown, denied = HEALTH[name]
    found, expected = {}, {}
    for persona in PERSONAS:
        client = client_for(persona, world)
        audit_clear()
        response = ask(client, name, world)
        found[persona] = (outcome(response), rows())
        if persona in route.allowed:
            wanted = as_rows(persona, shown(world, persona), AuditEvent.Outcome.ALLOWED)
        elif persona in STAFF and denied is not None:
            wanted = as_rows(persona, [denied(world)], AuditEvent.Outcome.DENIED)
        else:
            wanted = []
        expected[persona] = (expected_status(route, persona), wanted)
    assert found == expected
    # Who was sent to sign in, on a staff page; a patient's page never is.
    assert {persona for persona, (status, _rows) in found.items() if status == SIGN_IN} == (
        {ANONYMOUS, *LINKS} if route.anonymous == SIGN_IN else set()
    )


# --- Changes: a refused one leaves its one denied row too ----------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A staff action (POST): what it sends, who may, and the denied row of a member of staff it refuses."""

    route: str
    data: dict[str, str]
    allowed: frozenset[str]
    denied: Callable[[World], Row]
    # Roles the lookup lets in but the action itself refuses (the front desk confirming an intake, a physician
    # assistant judging an adverse event): what they get, and their row, which may name the patient they can see.
    within: frozenset[str] = frozenset()
    within_status: int = 404
    within_row: Callable[[World], Row] | None = None


ADJUDICATION = {
    "related_to_harvest": "definite",
    "related_to_injection": "unrelated",
    "related_to_product": "unlikely",
    "action": "Ice.",
    "outcome": "recovered",
}
PHYSICIANS = may(Record.PROCEDURE, Act.SIGN)  # `procedures.services.is_physician`
CHANGES: dict[str, Change] = {
    **{
        name: Change(name, {}, ROUTES[name].allowed, refused(Act.CHANGE, Record.PATIENT, rosa))
        for name in (
            "patients:chart_allergy_confirm",
            "patients:chart_allergy_deactivate",
            "patients:chart_medication_confirm",
            "patients:chart_medication_stop",
            "patients:chart_history_confirm",
        )
    },
    "patients:intake_resend": Change(
        "patients:intake_resend",
        {},
        ROUTES["patients:intake_resend"].allowed,
        refused(Act.CHANGE, Record.INTAKE, lambda w: w.intake.uuid),
    ),
    "patients:intake_confirm": Change(
        "patients:intake_confirm",
        {},
        ROUTES["patients:intake_confirm"].allowed,
        refused(Act.CHANGE, Record.INTAKE, lambda w: w.intake.uuid),
        within=may(Record.INTAKE, Act.CHANGE) - ROUTES["patients:intake_confirm"].allowed,
        within_row=lambda w: (C, "intake", str(w.intake.uuid), w.rosa),
    ),
    "patients:consent_link_send": Change(
        "patients:consent_link_send",
        {},
        ROUTES["patients:consent_link_send"].allowed,
        refused(Act.CHANGE, Record.CONSENT, lambda w: w.episode.uuid),
    ),
    "procedures:section": Change(
        "procedures:section",
        {"rehab-rehabilitation_protocol": "Walk."},
        ROUTES["procedures:section"].allowed,
        refused(Act.CHANGE, Record.PROCEDURE, lambda w: w.record.uuid),
    ),
    # A physician's judgement of an adverse event (its page's form, posted).
    "procedures:adverse_event (judgement)": Change(
        "procedures:adverse_event",
        ADJUDICATION,
        may(Record.ADVERSE_EVENT, Act.CHANGE) & PHYSICIANS,
        refused(Act.CHANGE, Record.ADVERSE_EVENT, lambda w: w.event.uuid),
        within=may(Record.ADVERSE_EVENT, Act.CHANGE) - PHYSICIANS,
        within_status=403,
        within_row=lambda w: (C, "adverse_event", str(w.event.uuid), w.rosa),
    ),
}


def test_the_changes_are_each_one_role_s_at_least() -> None:
    assert {label: sorted(change.within) for label, change in CHANGES.items() if change.within} == {
        "patients:intake_confirm": [Role.FRONT_DESK],
        "procedures:adverse_event (judgement)": [Role.PHYSICIAN_ASSISTANT],
    }
    assert all(change.allowed for change in CHANGES.values())


@pytest.mark.parametrize("label", sorted(CHANGES))
def test_a_refused_change_leaves_exactly_one_denied_row(world: World, label: str) -> None:
    change = CHANGES[label]
    path = reverse(change.route, kwargs=KWARGS[change.route](world))
    found: dict[str, tuple[int, list[tuple[Any, ...]]]] = {}
    expected: dict[str, tuple[int, list[tuple[Any, ...]]]] = {}
    for persona in sorted(STAFF):
        client = client_for(persona, world)
        audit_clear()
        response = client.post(path, change.data)
        found[persona] = (response.status_code, [row for row in rows() if row[-1] == AuditEvent.Outcome.DENIED])
        if persona in change.allowed:
            expected[persona] = (302, [])
        elif persona in change.within:
            assert change.within_row is not None
            expected[persona] = (change.within_status, as_rows(persona, [change.within_row(world)], "denied"))
        else:
            expected[persona] = (404, as_rows(persona, [change.denied(world)], "denied"))
    assert found == expected
