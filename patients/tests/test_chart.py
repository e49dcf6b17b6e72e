"""The staff chart page and its reads: who may open it, what it shows, its audit row and its queries.

Personas: alice (front desk), bob (physician, the schedule's "Dr. Bob Example"), charlie
(processing technician: may read charts, not change them). `schedule` gives two
patients, rosa and luis (Patient1 and Patient2 Example, born 1 January 1960).
"""

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES
from patients import chart as charts
from patients.consent import sha256, valid_consent
from patients.models import (
    Allergy,
    ConsentDocument,
    ConsentSignature,
    Episode,
    Indication,
    Intake,
    MedicalHistory,
    Medication,
    Patient,
    Source,
)
from patients.services import mrn_for
from patients.views.chart import _url
from procedures.models import AdverseEvent, ProcedureRecord
from scheduling.models import Appointment, AppointmentStatus
from scheduling.tests.conftest import Schedule, local

pytestmark = pytest.mark.django_db

SIGNED_AT = datetime(2031, 2, 10, 18, 0, tzinfo=UTC)


# --- Helpers shared by the chart's tests ---------------------------------------------------------


def text(response: Any) -> str:
    """The page's main content as a person reads it: no tags, entities decoded, whitespace collapsed."""
    page = response.content.decode()
    main = page[page.index('<main id="main"') : page.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def section(response: Any, anchor: str) -> str:
    """The text of one section of the chart (`<section id=anchor>`)."""
    page = response.content.decode()
    start = page.index(f'<section id="{anchor}"')
    body = page[start : page.index("</section>", start)]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def with_mrn(patient: Patient) -> Patient:
    patient.mrn = mrn_for(patient)
    patient.save(update_fields=["mrn"])
    return patient


def new_audit_rows(since: int) -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(id__gt=since)
        .order_by("id")
        .values_list("actor__username", "action", "object_type", "object_ref", "patient_id", "outcome")
    )


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def chart_url(patient: Patient) -> str:
    return f"/staff/patients/{patient.uuid}/"


def make_episode(s: Schedule, patient: Patient, n: int = 0, **fields: Any) -> Episode:
    values: dict[str, Any] = {
        "patient": patient,
        "indication": Indication.OSTEOARTHRITIS,
        "site": "knee",
        "side": "right" if n % 2 == 0 else "left",
        "physician": s.doctor,
        "status": Episode.Status.CANDIDATE,
        "opened_at": datetime(2031, 1, 1, tzinfo=UTC) + timedelta(days=n),
    }
    values.update(fields)
    return Episode.objects.create(**values)


def document(language: str = "en", version: int = 1) -> ConsentDocument:
    return ConsentDocument.objects.create(
        language=language, version=version, title="Consent to BMAC", body="The procedure, its risks."
    )


def sign(episode: Episode, doc: ConsentDocument, **fields: Any) -> ConsentSignature:
    values: dict[str, Any] = {
        "episode": episode,
        "document": doc,
        "printed_name": "Patient1 Example",
        "signature_png": "iVBORw0KGgo=",
        "meaning": "I consent.",
        "rendered_text": "<p>What was signed</p>",
        "text_sha256": sha256("<p>What was signed</p>"),
        "method": ConsentSignature.Method.IN_OFFICE,
        "signed_at": SIGNED_AT,
        "pdf": b"%PDF-1.7 signed",
        "pdf_sha256": sha256(b"%PDF-1.7 signed"),
    }
    values.update(fields)
    return ConsentSignature.objects.create(**values)


def procedure(episode: Episode, n: int = 0, **fields: Any) -> ProcedureRecord:
    values: dict[str, Any] = {"episode": episode, "procedure_date": date(2031, 2, 20) + timedelta(days=n)}
    values.update(fields)
    return ProcedureRecord.objects.create(**values)


def adverse_event(episode: Episode, n: int = 0, **fields: Any) -> AdverseEvent:
    values: dict[str, Any] = {
        "episode": episode,
        "kind": AdverseEvent.Kind.HAEMATOMA,
        "onset_date": date(2031, 2, 21) + timedelta(days=n),
        "grade": 1,
        "serious": False,
    }
    values.update(fields)
    return AdverseEvent.objects.create(**values)


def appointment(s: Schedule, patient: Patient, starts_at: datetime, **fields: Any) -> Appointment:
    """An appointment row as it stands (the booking rules are scheduling's and tested there)."""
    kind = fields.pop("appointment_type", s.consult)
    values: dict[str, Any] = {
        "office": s.la,
        "provider": s.doctor,
        "appointment_type": kind,
        "patient": patient,
        "starts_at": starts_at,
        "ends_at": starts_at + kind.duration,
        "blocks_until": starts_at + kind.duration + timedelta(minutes=kind.buffer_after_minutes),
        "source": Appointment.Source.STAFF,
    }
    values.update(fields)
    return Appointment.objects.create(**values)


def full_chart(s: Schedule, patient: Patient, n: int, at: str = "10:00") -> None:
    """`n` of each kind of record on the chart: allergies, medications, episodes (each with a consent, procedures and
    adverse events), appointments and intakes."""
    doc = ConsentDocument.objects.filter(language="en").first() or document()
    for i in range(n):
        Allergy.objects.create(patient=patient, substance=f"Substance {i}", source=Source.PATIENT)
        Medication.objects.create(patient=patient, name=f"Eliquis {i}", drug_class=Medication.DrugClass.ANTICOAGULANT)
        episode = make_episode(s, patient, i, status=Episode.Status.CONSENTED)
        sign(episode, doc)
        procedure(episode, i)
        adverse_event(episode, i)
        appointment(s, patient, local(date(2025, 2, 3) + timedelta(days=i), at))
        Intake.objects.create(patient=patient, status=Intake.Status.SUBMITTED)
    MedicalHistory.objects.create(patient=patient, diabetes=True, source=Source.PATIENT)


@pytest.fixture
def desk(client: Client, alice: User) -> Client:
    sign_in(client, alice)
    return client


@pytest.fixture
def doctor(client: Client, bob: User) -> Client:
    sign_in(client, bob)
    return client


# --- Who may open it -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, schedule: Schedule) -> None:
    path = chart_url(schedule.rosa)
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"/accounts/sign-in/?next={path}")


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RESEARCHER])
def test_a_role_without_the_chart_gets_a_404_and_a_denied_row(client: Client, schedule: Schedule, role: str) -> None:
    user = User.objects.create_user("someone", password="someone-password-1", role=role)
    sign_in(client, user)
    since = last_audit_id()
    assert client.get(chart_url(schedule.rosa)).status_code == 404
    assert new_audit_rows(since) == [("someone", "view", "patient", str(schedule.rosa.uuid), None, "denied")]


def test_a_chart_that_does_not_exist_is_a_404_like_any_other_miss(desk: Client, schedule: Schedule) -> None:
    assert desk.get("/staff/patients/00000000-0000-4000-8000-000000000000/").status_code == 404
    assert desk.get("/staff/patients/not-a-uuid/").status_code == 404


def test_the_absolute_url_of_a_patient_is_their_chart(schedule: Schedule) -> None:
    assert schedule.rosa.get_absolute_url() == chart_url(schedule.rosa)
    assert reverse("patients:chart", kwargs={"uuid": schedule.rosa.uuid}) == chart_url(schedule.rosa)


def test_the_technician_reads_the_chart_without_any_button_to_change_it(
    client: Client, schedule: Schedule, charlie: User
) -> None:
    Allergy.objects.create(patient=schedule.rosa, substance="Latex", source=Source.PATIENT)
    sign_in(client, charlie)
    response = client.get(chart_url(schedule.rosa))
    assert response.status_code == 200
    page = response.content.decode()
    assert ("Confirm" in page, "Add an allergy" in page, "Edit demographics" in page) == (False, False, False)
    assert "Patient-reported" in section(response, "allergies")


# --- What it shows -------------------------------------------------------------------------------


def test_the_header_shows_who_the_patient_is_and_how_to_reach_them(desk: Client, schedule: Schedule) -> None:
    rosa = with_mrn(schedule.rosa)
    Patient.objects.filter(pk=rosa.pk).update(
        phone="(310) 555-0100",
        sex=Patient.Sex.FEMALE,
        preferred_language="es",
        street="1 Example Way",
        city="Los Angeles",
        state="CA",
        postal_code="90048",
    )
    response = desk.get(chart_url(rosa), HTTP_HOST="testserver")
    assert response.status_code == 200
    age = charts.age_on(date(1960, 1, 1), timezone.localdate())
    header = text(response).split("At a glance")[0].strip()
    assert header == (
        f"Find a patient Chart of Patient1 Example Patient1 Example MRN {rosa.mrn} Date of birth Jan. 1, 1960 "
        f"({age} years old) Sex Female Language Spanish Phone (310) 555-0100 Email p1@example.com "
        "Address 1 Example Way Los Angeles, CA 90048 Edit demographics and contact Who opened this chart"
    )


def test_the_page_is_never_cached(desk: Client, schedule: Schedule) -> None:
    response = desk.get(chart_url(schedule.rosa))
    assert "no-store" in response["Cache-Control"]


def test_opening_the_chart_leaves_one_view_row_naming_the_patient(desk: Client, schedule: Schedule) -> None:
    full_chart(schedule, schedule.rosa, 2)
    since = last_audit_id()
    assert desk.get(chart_url(schedule.rosa)).status_code == 200
    assert new_audit_rows(since) == [("alice", "view", "patient", str(schedule.rosa.uuid), schedule.rosa.pk, "allowed")]


def test_patient_reported_entries_are_marked_and_offer_confirm(desk: Client, schedule: Schedule, bob: User) -> None:
    rosa = schedule.rosa
    Allergy.objects.create(patient=rosa, substance="Penicillin", reaction="hives", source=Source.PATIENT)
    Allergy.objects.create(
        patient=rosa, substance="Latex", source=Source.PATIENT, confirmed_at=SIGNED_AT, confirmed_by=bob
    )
    Allergy.objects.create(patient=rosa, substance="Iodine", source=Source.CLINICIAN)
    Allergy.objects.create(patient=rosa, substance="Shellfish", is_active=False)
    response = desk.get(chart_url(rosa))
    assert section(response, "allergies") == (
        "Allergies "
        "Iodine Recorded by a clinician. Recorded in error : Iodine "
        "Latex Reported by the patient; confirmed by bob on Feb. 10, 2031. Recorded in error : Latex "
        "Penicillin : hives Patient-reported Not yet confirmed by a clinician. Confirm Penicillin "
        "Recorded in error : Penicillin "
        "Add an allergy 1 allergy recorded in error Shellfish"
    )


def test_flagged_medications_carry_a_word_and_an_icon_not_colour_alone(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    for name, kind in [
        ("Eliquis", Medication.DrugClass.ANTICOAGULANT),
        ("Aspirin", Medication.DrugClass.ANTIPLATELET),
        ("Advil", Medication.DrugClass.NSAID),
        ("Prednisone", Medication.DrugClass.CORTICOSTEROID),
        ("Metformin", Medication.DrugClass.OTHER),
    ]:
        Medication.objects.create(patient=rosa, name=name, dose="daily", drug_class=kind)
    Medication.objects.create(
        patient=rosa, name="Plavix", drug_class=Medication.DrugClass.ANTIPLATELET, is_active=False
    )
    response = desk.get(chart_url(rosa))
    meds = section(response, "medications")
    assert meds == (
        "Current medications "
        "Advil · daily Flagged: NSAID Recorded by a clinician. Stop Advil "
        "Aspirin · daily Flagged: Antiplatelet Recorded by a clinician. Stop Aspirin "
        "Eliquis · daily Flagged: Anticoagulant Recorded by a clinician. Stop Eliquis "
        "Metformin · daily Drug class: Other Recorded by a clinician. Stop Metformin "
        "Prednisone · daily Drug class: Corticosteroid Recorded by a clinician. Stop Prednisone "
        "Add a medication 1 stopped medication Plavix (Antiplatelet)"
    )
    page = response.content.decode()
    # The icon is drawn (hidden from screen readers, which read the word).
    assert page.count('<svg class="flag-icon"') == 6  # three in the list, three at the top
    assert section(response, "medications").count("Flagged:") == 3
    # At the top, the flagged ones first by what matters most for bleeding.
    assert section(response, "glance") == (
        "At a glance Allergies: none recorded Flagged: Anticoagulant Eliquis (daily) "
        "Flagged: Antiplatelet Aspirin (daily) Flagged: NSAID Advil (daily)"
    )


def test_the_medical_history_shows_its_answers_and_its_source(desk: Client, schedule: Schedule) -> None:
    MedicalHistory.objects.create(
        patient=schedule.rosa,
        diabetes=True,
        smoking=MedicalHistory.Smoking.FORMER,
        cancer_history=False,
        bleeding_disorder=None,
        prior_surgery_at_site="Arthroscopy 2019",
        source=Source.PATIENT,
    )
    assert section(desk.get(chart_url(schedule.rosa)), "history") == (
        "Medical history Diabetes Yes Smoking Former smoker History of cancer No Bleeding disorder Not asked "
        "Earlier surgery at the treated site Arthroscopy 2019 Patient-reported Not yet confirmed by a clinician. "
        "Confirm the medical history Edit the medical history"
    )


def test_each_episode_shows_status_consent_procedures_events_and_what_is_next(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    doc = document()
    older = make_episode(schedule, rosa, 0, status=Episode.Status.TREATED)
    sign(older, doc)
    procedure(older, 0, status=ProcedureRecord.Status.SIGNED, paw_code="P2-Bβ")
    adverse_event(older, 0, kind=AdverseEvent.Kind.OTHER, kind_other="Dizziness", grade=2, serious=True)
    withdrawn = make_episode(
        schedule, rosa, 1, status=Episode.Status.WITHDRAWN, site="shoulder", indication=Indication.ROTATOR_CUFF
    )
    sign(withdrawn, doc, withdrawn_at=datetime(2031, 2, 12, 18, tzinfo=UTC), withdrawn_reason="Changed mind")
    newest = make_episode(schedule, rosa, 2, status=Episode.Status.CANDIDATE, site="hip", side="left")
    response = desk.get(chart_url(rosa))
    assert section(response, "episodes") == (
        "Treatment episodes "
        "Left hip: Osteoarthritis Indication Osteoarthritis Site and side Hip, left Physician Dr. Bob Example "
        "Status Candidate: consent to be signed Consent No valid consent Next Consent to sign "
        "Procedures None yet. Adverse events None recorded. "
        "Left shoulder: Partial rotator cuff tear Indication Partial rotator cuff tear Site and side Shoulder, left "
        "Physician Dr. Bob Example Status Consent withdrawn Consent Withdrawn on Feb. 12, 2031 "
        "Next Nothing: consent was withdrawn Procedures None yet. Adverse events None recorded. "
        "Right knee: Osteoarthritis Indication Osteoarthritis Site and side Knee, right Physician Dr. Bob Example "
        "Status Treated: in follow-up Consent Signed Feb. 10, 2031, version 1 (English) Next Follow-ups "
        "Procedures Feb. 20, 2031 · Signed · PAW P2-Bβ "
        "Adverse events Dizziness · grade 2 Moderate · serious · onset Feb. 21, 2031"
    )
    assert newest.opened_at > withdrawn.opened_at > older.opened_at


def test_links_go_only_to_routes_that_exist(schedule: Schedule) -> None:
    assert _url("patients:chart", uuid=schedule.rosa.uuid) == chart_url(schedule.rosa)
    assert _url("patients:no_such_page", uuid=schedule.rosa.uuid) is None
    assert _url("patients:chart", wrong=1) is None


def test_appointments_show_the_next_one_and_the_past_ones(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    appointment(schedule, rosa, local(date(2020, 3, 4), "09:00"), status=AppointmentStatus.COMPLETED)
    appointment(schedule, rosa, local(date(2020, 5, 6), "14:30"), status=AppointmentStatus.NO_SHOW)
    appointment(schedule, rosa, local(date(2031, 3, 5), "10:00"))
    appointment(schedule, rosa, local(date(2031, 3, 3), "11:00"), status=AppointmentStatus.CANCELLED)
    appointment(schedule, rosa, local(date(2031, 4, 7), "10:00"), appointment_type=schedule.follow_up)
    assert section(desk.get(chart_url(rosa)), "appointments") == (
        "Appointments Next March 5, 2031, 10 a.m. · Consultation · Los Angeles · Dr. Bob Example "
        "Past May 6, 2020, 2:30 p.m. · Consultation · Los Angeles · Dr. Bob Example · No-show "
        "March 4, 2020, 9 a.m. · Consultation · Los Angeles · Dr. Bob Example · Completed"
    )


def test_possible_duplicates_are_shown_with_a_merge_action(desk: Client, schedule: Schedule) -> None:
    rosa, luis = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    response = desk.get(chart_url(rosa))
    assert section(response, "duplicates").startswith(
        "Possible duplicate charts Same date of birth, and more in common. Compare them before merging. "
        f"Chart {luis.mrn}, opened "
    )
    assert section(response, "duplicates").endswith(f": same last name · Compare and merge {luis.mrn}")
    assert f'href="/staff/patients/{rosa.uuid}/merge/{luis.uuid}/"' in response.content.decode()


def test_a_merged_chart_leads_to_the_surviving_one(desk: Client, schedule: Schedule) -> None:
    rosa, luis = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    Patient.objects.filter(pk=luis.pk).update(merged_into=rosa)
    since = last_audit_id()
    response = desk.get(chart_url(luis))
    assert text(response).split("This chart was merged ")[1].split(" MRN")[0] == (
        f"Chart {luis.mrn} was a duplicate: everything it held now lives on chart {rosa.mrn}. Open the surviving chart"
    )
    assert f'href="{chart_url(rosa)}"' in response.content.decode()
    assert new_audit_rows(since) == [("alice", "view", "patient", str(luis.uuid), luis.pk, "allowed")]


def own_queries(queries: CaptureQueriesContext) -> list[str]:
    """The page's own queries: the audit log's writer (accounts.audit), the session's save (the sessions
    middleware refreshes it now and then) and the authenticator's lookup (the second step of sign-in,
    django-otp's middleware) are other modules' and counted apart."""
    return [
        q["sql"]
        for q in queries
        if "accounts_auditevent" not in q["sql"]
        and "otp_totp_totpdevice" not in q["sql"]
        and "SAVEPOINT" not in q["sql"]
        and not q["sql"].startswith('UPDATE "django_session"')
    ]


def page_queries(client: Client, url: str) -> tuple[Any, list[str]]:
    """The response and the page's own queries (`own_queries`)."""
    client.get(url)  # warm the practice's cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, own_queries(queries)


def test_the_chart_asks_a_fixed_number_of_queries_with_1_or_3_of_everything(desk: Client, schedule: Schedule) -> None:
    for n, patient, at in ((1, schedule.rosa, "10:00"), (3, schedule.luis, "14:00")):
        full_chart(schedule, patient, n, at)
        # Charts that may be the same person (born the same day, same last name).
        for i in range(n):
            Patient.objects.create(first_name=f"Dup{i}", last_name="Example", date_of_birth=date(1960, 1, 1))
        response, own = page_queries(desk, chart_url(patient))
        data = response.context["chart"]
        shown = (
            len(data.episodes),
            sum(len(p.procedures) for p in data.episodes),
            sum(len(p.adverse_events) for p in data.episodes),
            len(data.allergies),
            len(data.medications),
            len(data.past_appointments),
            len(data.intakes),
        )
        assert shown == (n,) * 7
        assert len(data.duplicates) >= n
        # session, user, patient (with history), allergies, medications, episodes, consents, procedures,
        # adverse events, current consent versions, appointments, intakes, duplicates.
        assert len(own) == 12 + CHAIN_QUERIES, own


# --- The reads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(1960, 1, 1), date(2031, 1, 1), 71),
        (date(1960, 1, 2), date(2031, 1, 1), 70),
        (date(1960, 2, 29), date(2031, 2, 28), 70),
        (date(1960, 2, 29), date(2031, 3, 1), 71),
    ],
)
def test_age_counts_whole_years(born: date, today: date, age: int) -> None:
    assert charts.age_on(born, today) == age


@pytest.mark.parametrize(
    ("status", "records", "due"),
    [
        (Episode.Status.CANDIDATE, [], "Consent to sign"),
        (Episode.Status.CONSENTED, [], "Procedure"),
        (Episode.Status.CONSENTED, [ProcedureRecord.Status.IN_PROGRESS], "Procedure: to finish and sign off"),
        (Episode.Status.TREATED, [ProcedureRecord.Status.SIGNED], "Follow-ups"),
        (Episode.Status.CLOSED, [], "Nothing: the episode is closed"),
        (Episode.Status.WITHDRAWN, [], "Nothing: consent was withdrawn"),
    ],
)
def test_next_due_says_what_the_episode_waits_for(
    schedule: Schedule, status: str, records: list[str], due: str
) -> None:
    episode = make_episode(schedule, schedule.rosa, status=status)
    for n, record_status in enumerate(records):
        procedure(episode, n, status=record_status)
    assert charts.next_due(episode) == due


def test_the_chart_s_consent_agrees_with_valid_consent(schedule: Schedule) -> None:
    rosa = schedule.rosa
    v1 = document(version=1)
    cases = {}
    cases["valid"] = make_episode(schedule, rosa, 0)
    sign(cases["valid"], v1)
    cases["withdrawn"] = make_episode(schedule, rosa, 1)
    sign(cases["withdrawn"], v1, withdrawn_at=SIGNED_AT)
    cases["altered"] = make_episode(schedule, rosa, 2)
    sign(cases["altered"], v1, rendered_text="<p>Something else</p>")
    cases["none"] = make_episode(schedule, rosa, 3)
    cases["spanish"] = make_episode(schedule, rosa, 4)
    sign(cases["spanish"], document(language="es", version=1))
    cases["re-signed"] = make_episode(schedule, rosa, 5)
    sign(cases["re-signed"], v1, withdrawn_at=SIGNED_AT)
    valid_later = sign(cases["re-signed"], v1, signed_at=SIGNED_AT + timedelta(days=1))
    states = charts.consent_states(charts.episodes_of(rosa))
    found = {name: states[episode.pk] for name, episode in cases.items()}
    assert {name: state.kind for name, state in found.items()} == {
        "valid": "valid",
        "withdrawn": "withdrawn",
        "altered": "none",
        "none": "none",
        "spanish": "valid",
        "re-signed": "valid",
    }
    assert found["re-signed"].signature == valid_later
    for name, episode in cases.items():
        assert (found[name].signature if found[name].kind == "valid" else None) == valid_consent(episode), name
    # A newer version published: every English signature is on an older one now.
    document(version=2)
    states = charts.consent_states(charts.episodes_of(rosa))
    assert (states[cases["valid"].pk].kind, valid_consent(cases["valid"])) == ("none", None)
    assert states[cases["spanish"].pk].kind == "valid"


def test_confirming_counts_only_active_patient_reported_entries(schedule: Schedule, bob: User) -> None:
    rosa = schedule.rosa
    Allergy.objects.create(patient=rosa, substance="A", source=Source.PATIENT)
    Allergy.objects.create(patient=rosa, substance="B", source=Source.PATIENT, is_active=False)
    Medication.objects.create(patient=rosa, name="C", source=Source.PATIENT)
    Medication.objects.create(patient=rosa, name="D", source=Source.PATIENT, confirmed_at=SIGNED_AT, confirmed_by=bob)
    MedicalHistory.objects.create(patient=rosa, source=Source.PATIENT)
    data = charts.chart_read(patient=charts.chart_patients().get(pk=rosa.pk))
    assert data.to_confirm == 3
