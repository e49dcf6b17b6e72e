"""Candidacy assessments and episodes: the service, the assessment form (choose, check, save), the episode page."""

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent, User
from patients import consent
from patients.episodes import AssessmentDetails, assessment_record
from patients.models import CandidacyAssessment, ConsentDocument, Episode, Intake, MedicalHistory, Medication
from patients.tests.episode_fixtures import (
    audit_lock_queries,
    audit_rows,
    client_for,
    documents,
    episode,
    manager,
    open_episode,
    pat,
    png,
    text,
)
from scheduling.tests.conftest import Schedule, make_patient

__all__ = ["documents", "episode", "manager", "pat"]

pytestmark = pytest.mark.django_db

REASON = "Mild to moderate osteoarthritis after a year of physical therapy."


def details(s: Schedule, **changes: Any) -> AssessmentDetails:
    fields: dict[str, Any] = {
        "indication": "osteoarthritis",
        "site": "knee",
        "side": "right",
        "decision": "candidate",
        "reason": REASON,
        "kl_grade": 2,
        "failed_care": ("physical_therapy",),
        "physician": s.doctor,
    }
    fields.update(changes)
    return AssessmentDetails(**fields)


def new_url(s: Schedule, patient: Any = None) -> str:
    return f"/staff/patients/{(patient or s.rosa).uuid}/assessments/new/"


def form_data(s: Schedule, **changes: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "indication": "osteoarthritis",
        "site": "knee",
        "side": "right",
        "kl_grade": "2",
        "failed_care": ["physical_therapy", "nsaids"],
        "imaging": "X-ray of both knees standing",
        "decision": "candidate",
        "reason": REASON,
        "physician": str(s.doctor.uuid),
        "checked": "",
    }
    data.update(changes)
    return data


# --- The service ---------------------------------------------------------------------------------


def test_a_candidate_decision_opens_an_episode_in_the_same_transaction(schedule: Schedule, bob: User) -> None:
    assessment = assessment_record(patient=schedule.rosa, details=details(schedule), by=bob)
    episode = assessment.episode
    assert episode is not None
    assert (episode.patient, episode.indication, episode.site, episode.side, episode.physician, episode.status) == (
        schedule.rosa,
        "osteoarthritis",
        "knee",
        "right",
        schedule.doctor,
        Episode.Status.CANDIDATE,
    )
    assert (assessment.decided_by, assessment.suggestions_version, assessment.suggestions) == (bob, "candidacy-1", [])
    assert assessment.failed_conservative_care == ["physical_therapy"]
    assert audit_rows() == [
        ("bob", "physician", "create", "candidacy_assessment", str(assessment.uuid), schedule.rosa.pk, "allowed"),
        ("bob", "physician", "create", "episode", str(episode.uuid), schedule.rosa.pk, "allowed"),
    ]


def test_another_decision_stores_the_assessment_and_opens_nothing(schedule: Schedule, bob: User) -> None:
    assessment = assessment_record(
        patient=schedule.rosa, details=details(schedule, decision="needs_imaging", physician=None), by=bob
    )
    assert (assessment.decision, assessment.episode, Episode.objects.count()) == ("needs_imaging", None, 0)
    assert [row[3] for row in audit_rows()] == ["candidacy_assessment"]


def test_the_suggestions_are_read_from_the_chart_and_stored_with_their_version(schedule: Schedule, bob: User) -> None:
    Medication.objects.create(patient=schedule.rosa, name="Eliquis", drug_class="anticoagulant")
    MedicalHistory.objects.create(patient=schedule.rosa, cancer_history=True)
    Intake.objects.create(patient=schedule.rosa, answers={"screening": {"fever": "yes", "pregnancy": "no"}})
    assessment = assessment_record(patient=schedule.rosa, details=details(schedule, kl_grade=4), by=bob)
    assert [(s["code"], s["severity"]) for s in assessment.suggestions] == [
        ("cancer_history", "stop"),
        ("fever", "stop"),
        ("anticoagulant", "caution"),
        ("kl_4", "caution"),
    ]
    assert assessment.suggestions_version == "candidacy-1"


def test_a_patient_can_have_several_episodes(schedule: Schedule, bob: User) -> None:
    open_episode(schedule)
    open_episode(schedule, side="left")
    open_episode(schedule, indication="rotator_cuff", site="shoulder", kl_grade=None, tear_type="partial")
    assert schedule.rosa.episodes.count() == 3


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"physician": None}, {"physician": ["Choose the physician who will treat this episode."]}),
        (
            {"indication": "tendon_injury"},
            {"kellgren_lawrence_grade": ["A Kellgren-Lawrence grade is for osteoarthritis."]},
        ),
        ({"tear_type": "full"}, {"tear_type": ["A tear type is for a rotator cuff tear."]}),
        ({"reason": "  "}, {"reason": ["Please give the reason for the decision."]}),
        ({"failed_care": ("magic",)}, {"failed_conservative_care": ["Choose from the list."]}),
    ],
    ids=["no-physician", "kl-not-oa", "tear-not-cuff", "no-reason", "unknown-care"],
)
def test_a_refused_assessment_writes_nothing(
    schedule: Schedule, bob: User, changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    with pytest.raises(ValidationError) as refused:
        assessment_record(patient=schedule.rosa, details=details(schedule, **changes), by=bob)
    assert refused.value.message_dict == errors
    assert (CandidacyAssessment.objects.count(), Episode.objects.count(), AuditEvent.objects.count()) == (0, 0, 0)


def test_an_inactive_physician_cannot_take_an_episode(schedule: Schedule, bob: User) -> None:
    schedule.doctor.is_active = False
    schedule.doctor.save()
    with pytest.raises(ValidationError) as refused:
        assessment_record(patient=schedule.rosa, details=details(schedule), by=bob)
    assert refused.value.message_dict == {"physician": ["Choose an active physician."]}


# --- The assessment page -------------------------------------------------------------------------


def test_the_first_step_asks_for_the_indication_and_leaves_one_audit_row(schedule: Schedule, bob: User) -> None:
    response = client_for(bob).get(new_url(schedule))
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert "Candidacy assessment" in text(response)
    assert response.content.decode().count('name="indication"') == 9
    assert audit_rows() == [
        ("bob", "physician", "view", "patient", str(schedule.rosa.uuid), schedule.rosa.pk, "allowed")
    ]


@pytest.mark.parametrize(
    ("indication", "shown", "hidden"),
    [
        ("osteoarthritis", "kl_grade", ["tear_type", "sprain_grade"]),
        ("rotator_cuff", "tear_type", ["kl_grade", "sprain_grade"]),
        ("knee_ligament", "sprain_grade", ["kl_grade", "tear_type"]),
        ("hamstring", None, ["kl_grade", "tear_type", "sprain_grade"]),
    ],
)
def test_the_details_shown_are_those_of_the_indication(
    schedule: Schedule, bob: User, indication: str, shown: str | None, hidden: list[str]
) -> None:
    response = client_for(bob).post(new_url(schedule), {"action": "choose", "indication": indication})
    page = response.content.decode()
    assert response.status_code == 200
    if shown:
        assert f'name="{shown}"' in page
    assert [name for name in hidden if f'name="{name}"' in page] == []
    # The signed-in physician is the episode's physician unless changed.
    assert f'<option value="{schedule.doctor.uuid}" selected>' in page


def test_the_usual_site_is_offered_for_the_indication(schedule: Schedule, bob: User) -> None:
    response = client_for(bob).post(new_url(schedule), {"action": "choose", "indication": "rotator_cuff"})
    assert '<option value="shoulder" selected>' in response.content.decode()


def test_the_check_step_shows_the_suggestions_with_their_reasons_and_saves_nothing(
    schedule: Schedule, bob: User
) -> None:
    Medication.objects.create(patient=schedule.rosa, name="Warfarin", drug_class="anticoagulant")
    client = client_for(bob)
    response = client.post(new_url(schedule), {**form_data(schedule, kl_grade="4"), "action": "check"})
    shown = text(response)
    assert response.status_code == 200
    assert "What the data suggests" in shown
    assert (
        "Caution Takes an anticoagulant or antiplatelet (Warfarin): the harvest and the injection need a plan "
        "for it, agreed with the prescriber."
    ) in shown
    assert "Caution Kellgren-Lawrence grade 4 is beyond \u201cmild to moderate\u201d osteoarthritis." in shown
    assert 'value="anticoagulant,kl_4"' in response.content.decode()
    assert "Save the assessment" in shown
    assert CandidacyAssessment.objects.count() == 0
    assert [row[2:4] for row in audit_rows()] == [("view", "patient")]


def test_saving_what_was_checked_opens_the_episode_and_goes_to_it(schedule: Schedule, bob: User) -> None:
    client = client_for(bob)
    response = client.post(new_url(schedule), {**form_data(schedule), "action": "save", "checked": ""})
    assessment = CandidacyAssessment.objects.get()
    assert assessment.episode is not None
    assert response.status_code == 302
    assert response["Location"] == f"/staff/patients/episodes/{assessment.episode.uuid}/"
    assert (assessment.failed_conservative_care, assessment.imaging) == (
        ["physical_therapy", "nsaids"],
        "X-ray of both knees standing",
    )
    assert [row[2:4] for row in audit_rows()] == [("create", "candidacy_assessment"), ("create", "episode")]


def test_saving_after_an_edit_that_changed_the_suggestions_shows_them_again(schedule: Schedule, bob: User) -> None:
    # Checked with KL 2 (nothing suggested), then changed to KL 4 before saving.
    response = client_for(bob).post(
        new_url(schedule), {**form_data(schedule, kl_grade="4"), "action": "save", "checked": ""}
    )
    assert response.status_code == 200
    assert "Your changes changed the suggestions. Please review them, then save again." in text(response)
    assert CandidacyAssessment.objects.count() == 0


def test_a_decision_other_than_candidate_goes_back_to_the_chart(schedule: Schedule, bob: User) -> None:
    response = client_for(bob).post(
        new_url(schedule),
        {
            **form_data(schedule, decision="not_candidate", physician="", kl_grade="4"),
            "action": "save",
            "checked": "kl_4",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/staff/patients/{schedule.rosa.uuid}/"
    assert (CandidacyAssessment.objects.get().decision, Episode.objects.count()) == ("not_candidate", 0)


def test_a_physician_assistant_must_choose_the_physician_and_sees_why_next_to_the_field(
    schedule: Schedule, pat: User
) -> None:
    response = client_for(pat).post(
        new_url(schedule), {**form_data(schedule, physician=""), "action": "save", "checked": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="id_physician_error"><li>Choose the physician who will treat this episode.</li>'
        in page
    )
    assert REASON in page  # what was typed is kept
    assert CandidacyAssessment.objects.count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"kl_grade": "9"},
        {"site": "elsewhere"},
        {"decision": ""},
        {"reason": ""},
        {"physician": "not-a-uuid"},
        {"failed_care": ["magic"]},
        {"indication": "nonsense"},
    ],
)
def test_bad_input_gets_a_message_never_a_500(schedule: Schedule, bob: User, changes: dict[str, Any]) -> None:
    response = client_for(bob).post(new_url(schedule), {**form_data(schedule, **changes), "action": "save"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errorlist' in page
    assert CandidacyAssessment.objects.count() == 0


def test_changing_the_indication_keeps_what_was_typed(schedule: Schedule, bob: User) -> None:
    response = client_for(bob).post(
        new_url(schedule), {**form_data(schedule, indication="rotator_cuff"), "action": "choose"}
    )
    page = response.content.decode()
    assert 'name="tear_type"' in page and 'name="kl_grade"' not in page
    assert REASON in page
    assert 'value="nsaids" id="id_failed_care_1" checked' in page


@pytest.mark.parametrize("who", ["alice", "charlie", "maria"])
def test_only_clinicians_may_assess_others_get_a_404(
    schedule: Schedule, alice: User, charlie: User, manager: User, who: str
) -> None:
    user = {"alice": alice, "charlie": charlie, "maria": manager}[who]
    client = client_for(user)
    assert client.get(new_url(schedule)).status_code == 404
    assert client.post(new_url(schedule), {**form_data(schedule), "action": "save"}).status_code == 404
    assert CandidacyAssessment.objects.count() == 0
    assert AuditEvent.objects.filter(outcome="denied").count() == 2


def test_an_unknown_patient_is_a_404(schedule: Schedule, bob: User) -> None:
    response = client_for(bob).get("/staff/patients/00000000-0000-0000-0000-000000000000/assessments/new/")
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(schedule: Schedule) -> None:
    response = Client().get(new_url(schedule))
    assert (response.status_code, response["Location"]) == (302, f"/accounts/sign-in/?next={new_url(schedule)}")


# --- The episode page ----------------------------------------------------------------------------


def test_the_episode_page_shows_the_assessment_consents_procedures_and_events(
    schedule: Schedule, episode: Episode, bob: User
) -> None:
    from procedures.models import AdverseEvent, ProcedureRecord

    signature = consent.consent_sign(
        episode=episode,
        document=consent.current_document("en"),  # type: ignore[arg-type]
        printed_name="Patient1 Example",
        signature_png=png(),
        method="in_office",
        by=bob,
    )
    ProcedureRecord.objects.create(
        episode=episode, procedure_date=date(2031, 3, 5), consent=signature, paw_code="P2-x-Bβ"
    )
    AdverseEvent.objects.create(episode=episode, kind="haematoma", onset_date=date(2031, 3, 6), grade=1, serious=False)
    AuditEvent.objects.count()
    before = AuditEvent.objects.count()
    response = client_for(bob).get(episode.get_absolute_url())
    shown = text(response)
    assert response.status_code == 200
    assert "Right knee: Osteoarthritis" in shown
    assert "Decision Candidate" in shown
    assert REASON in shown
    assert "Valid consent signed on" in shown
    assert "Valid" in shown and "Verify" in shown
    assert "P2-x-Bβ" in shown
    assert "Haematoma" in shown and "1 Mild" in shown
    assert audit_rows()[before:] == [
        ("bob", "physician", "view", "episode", str(episode.uuid), episode.patient_id, "allowed")
    ]


def test_the_episode_page_offers_the_consent_actions_the_role_allows(
    schedule: Schedule, episode: Episode, bob: User, alice: User, charlie: User
) -> None:
    physician = client_for(bob).get(episode.get_absolute_url()).content.decode()
    desk = client_for(alice).get(episode.get_absolute_url()).content.decode()
    technician = client_for(charlie).get(episode.get_absolute_url()).content.decode()
    sign = f"/staff/patients/episodes/{episode.uuid}/consent/sign/"
    link = f"/staff/patients/episodes/{episode.uuid}/consent/link/"
    assert (sign in physician, link in physician) == (True, True)
    assert (sign in desk, link in desk) == (False, True)
    assert (sign in technician, link in technician) == (False, False)


@pytest.mark.parametrize("consents", [1, 3])
def test_the_episode_page_asks_a_fixed_number_of_queries(
    schedule: Schedule, episode: Episode, bob: User, alice: User, consents: int
) -> None:
    document = consent.current_document("en")
    assert document is not None
    for _ in range(consents):
        signature = consent.consent_sign(
            episode=episode,
            document=document,
            printed_name="P",
            signature_png="",
            typed=True,
            method="in_office",
            by=bob,
        )
        consent.consent_withdraw(signature=signature, reason="r", by=alice)
    client = client_for(bob)
    client.get(episode.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        response = client.get(episode.get_absolute_url())
    assert len(response.context["overview"].consents) == consents
    # session, user, authenticator, episode (with patient and physician), audit row (head, insert; the lock
    # on PostgreSQL), assessment, procedures, adverse events, consents (with documents), latest versions
    assert len(queries) == EPISODE_PAGE_QUERIES + audit_lock_queries(), "\n".join(q["sql"][:120] for q in queries)


EPISODE_PAGE_QUERIES = 11


@pytest.mark.parametrize("who", ["maria"])
def test_a_role_without_access_gets_a_404_on_the_episode_page(
    schedule: Schedule, episode: Episode, manager: User, who: str
) -> None:
    assert client_for(manager).get(episode.get_absolute_url()).status_code == 404
    assert audit_rows(outcome="denied") == [("maria", "manager", "view", "episode", str(episode.uuid), None, "denied")]


def test_a_patients_uuid_or_an_unknown_one_is_no_episode(schedule: Schedule, episode: Episode, bob: User) -> None:
    client = client_for(bob)
    assert client.get(f"/staff/patients/episodes/{episode.patient.uuid}/").status_code == 404
    assert client.get(f"/staff/patients/episodes/{make_patient(9).uuid}/").status_code == 404
    assert client.get("/staff/patients/episodes/not-a-uuid/").status_code == 404


def test_a_document_less_practice_still_shows_the_episode(schedule: Schedule, bob: User) -> None:
    found = open_episode(schedule)
    assert ConsentDocument.objects.count() == 0
    response = client_for(bob).get(found.get_absolute_url())
    assert response.status_code == 200
    assert "No valid consent." in text(response)
