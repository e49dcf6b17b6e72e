"""Edits of the chart: demographics and contact, allergies, medications, the medical history.

Each is a service (audited, with a history row naming who) behind a thin view; an error
is shown next to its field with what was typed kept, and nothing is half-saved.
"""

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import User
from accounts.testing import sign_in
from patients import medications, services
from patients.models import Allergy, MedicalHistory, Medication, Patient, Source
from patients.services import Demographics, HistoryAnswers
from patients.tests.test_chart import chart_url, last_audit_id, new_audit_rows, section, text
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client: Client, alice: User) -> Client:
    sign_in(client, alice)
    return client


@pytest.fixture
def doctor(client: Client, bob: User) -> Client:
    sign_in(client, bob)
    return client


def demographics(**changes: str) -> dict[str, str]:
    data = {
        "first_name": "Rosa",
        "last_name": "García López",
        "date_of_birth": "1958-03-14",
        "sex": "female",
        "phone": "(310) 555-0100",
        "email": "rosa@example.com",
        "street": "1 Example Way",
        "city": "Los Angeles",
        "state": "ca",
        "postal_code": "90048",
        "preferred_language": "es",
    }
    data.update(changes)
    return data


def errors_of(response: Any) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def history_rows(model: Any, pk: int) -> list[tuple[Any, ...]]:
    return list(
        model.history.filter(id=pk)
        .order_by("history_id")
        .values_list("history_type", "history_user__username", "history_change_reason")
    )


# --- Demographics and contact --------------------------------------------------------------------


def test_the_edit_form_is_filled_from_the_chart_and_its_read_is_audited(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = desk.get(f"{chart_url(rosa)}edit/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    form = response.context["form"]
    assert (form.initial["first_name"], form.initial["date_of_birth"]) == ("Patient1", date(1960, 1, 1))
    assert new_audit_rows(since) == [("alice", "view", "patient", str(rosa.uuid), rosa.pk, "allowed")]


def test_saving_demographics_changes_the_chart_with_history_and_one_change_row(
    desk: Client, schedule: Schedule
) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = desk.post(f"{chart_url(rosa)}edit/", demographics())
    assert (response.status_code, response["Location"]) == (302, chart_url(rosa))
    rosa.refresh_from_db()
    assert (rosa.first_name, rosa.last_name, rosa.date_of_birth, rosa.phone, rosa.state, rosa.preferred_language) == (
        "Rosa",
        "García López",
        date(1958, 3, 14),
        "(310) 555-0100",
        "CA",
        "es",
    )
    assert rosa.updated_by is not None and rosa.updated_by.username == "alice"
    assert history_rows(Patient, rosa.pk)[-1] == ("~", "alice", None)
    assert new_audit_rows(since) == [("alice", "change", "patient", str(rosa.uuid), rosa.pk, "allowed")]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12"}, "phone", "Please check the phone number, for example 818-555-0199."),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "The date of birth cannot be in the future."),
        ({"date_of_birth": "1958-02-31"}, "date_of_birth", "Please check the date of birth, for example 03/14/1958."),
        ({"date_of_birth": ""}, "date_of_birth", "Please give the date of birth."),
        ({"first_name": "   "}, "first_name", "Please give the first name."),
        ({"email": "rosa@"}, "email", "Please check the email address: it should look like name@example.com."),
        ({"state": "California"}, "state", "Ensure this value has at most 2 characters (it has 10)."),
        ({"state": "C1"}, "state", "Please give the state as two letters, e.g. CA."),
        ({"postal_code": "9004"}, "postal_code", "Please check the ZIP code: five digits, e.g. 90048."),
        ({"sex": "robot"}, "sex", "Select a valid choice. robot is not one of the available choices."),
    ],
)
def test_a_bad_value_is_named_next_to_its_field_and_nothing_is_saved(
    desk: Client, schedule: Schedule, changes: dict[str, str], field: str, message: str
) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = desk.post(f"{chart_url(rosa)}edit/", demographics(**changes))
    assert response.status_code == 200
    assert errors_of(response) == {field: [message]}
    # What was typed is kept.
    assert response.context["form"].data["last_name"] == "García López"
    assert f'id="id_{field}_error"' in response.content.decode()
    rosa.refresh_from_db()
    assert (rosa.first_name, rosa.last_name) == ("Patient1", "Example")
    # The page showed the chart again: a read, no change.
    assert new_audit_rows(since) == [("alice", "view", "patient", str(rosa.uuid), rosa.pk, "allowed")]


def test_the_technician_cannot_open_or_send_the_edit_form(client: Client, schedule: Schedule, charlie: User) -> None:
    sign_in(client, charlie)
    assert client.get(f"{chart_url(schedule.rosa)}edit/").status_code == 404
    assert client.post(f"{chart_url(schedule.rosa)}edit/", demographics()).status_code == 404
    schedule.rosa.refresh_from_db()
    assert schedule.rosa.first_name == "Patient1"


def test_a_merged_chart_refuses_edits(desk: Client, schedule: Schedule) -> None:
    Patient.objects.filter(pk=schedule.luis.pk).update(merged_into=schedule.rosa)
    response = desk.post(f"{chart_url(schedule.luis)}edit/", demographics())
    assert errors_of(response) == {
        "__all__": ["This chart was merged into another one. Make changes on the surviving chart."]
    }
    schedule.luis.refresh_from_db()
    assert schedule.luis.first_name == "Patient2"


def test_nothing_is_half_saved_when_the_audit_row_cannot_be_written(
    schedule: Schedule, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(services, "audit_record", broken)
    typed: dict[str, Any] = {**demographics(), "date_of_birth": date(1958, 3, 14), "state": "CA"}
    details = Demographics(**typed)
    with pytest.raises(RuntimeError):
        services.patient_update(patient=schedule.rosa, details=details, by=alice)
    with pytest.raises(RuntimeError):
        services.allergy_add(patient=schedule.rosa, substance="Latex", by=alice)
    with pytest.raises(RuntimeError):
        services.medication_add(patient=schedule.rosa, name="Eliquis", by=alice)
    schedule.rosa.refresh_from_db()
    assert (schedule.rosa.first_name, Allergy.objects.count(), Medication.objects.count()) == ("Patient1", 0, 0)
    assert Patient.history.filter(id=schedule.rosa.pk).count() == 1  # the creation only


@pytest.mark.parametrize("field", ["first_name", "last_name", "phone", "email", "street", "city", "postal_code"])
def test_a_service_caller_s_nul_character_is_refused_by_its_field_before_any_query(
    schedule: Schedule, alice: User, field: str
) -> None:
    # The form refuses NUL; a direct caller of the service meets the same refusal (PostgreSQL would
    # raise a DataError on the NUL, SQLite would store it).
    typed: dict[str, Any] = {**demographics(), "date_of_birth": date(1958, 3, 14), "state": "CA"}
    typed[field] = f"{typed[field]}\x00"
    with pytest.raises(ValidationError) as refused:
        Demographics(**typed)
    assert list(refused.value.message_dict) == [field]
    with pytest.raises(ValidationError) as refused:
        HistoryAnswers(
            diabetes=None, smoking="", cancer_history=None, cancer_details="", bleeding_disorder=None,
            prior_surgery_at_site="", notes="knee\x00",
        )  # fmt: skip
    assert list(refused.value.message_dict) == ["notes"]
    assert Patient.history.filter(id=schedule.rosa.pk).count() == 1


# --- Allergies -----------------------------------------------------------------------------------


def test_adding_an_allergy_records_it_as_a_clinician_s_with_history_and_a_create_row(
    doctor: Client, schedule: Schedule
) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = doctor.post(f"{chart_url(rosa)}allergies/new/", {"substance": " Penicillin ", "reaction": "Hives"})
    assert (response.status_code, response["Location"]) == (302, f"{chart_url(rosa)}#allergies")
    allergy = Allergy.objects.get()
    assert (allergy.patient, allergy.substance, allergy.reaction, allergy.source, allergy.created_by) == (
        rosa,
        "Penicillin",
        "Hives",
        Source.CLINICIAN,
        User.objects.get(username="bob"),
    )
    assert history_rows(Allergy, allergy.pk) == [("+", "bob", None)]
    assert new_audit_rows(since) == [("bob", "create", "allergy", str(allergy.uuid), rosa.pk, "allowed")]


def test_an_allergy_without_a_substance_is_refused_next_to_the_field(doctor: Client, schedule: Schedule) -> None:
    response = doctor.post(f"{chart_url(schedule.rosa)}allergies/new/", {"substance": "  ", "reaction": "Hives"})
    assert errors_of(response) == {"substance": ["Please give the substance."]}
    assert response.context["form"].data["reaction"] == "Hives"
    assert Allergy.objects.count() == 0


def test_confirming_a_patient_reported_allergy_records_who_and_when(
    doctor: Client, schedule: Schedule, bob: User
) -> None:
    rosa = schedule.rosa
    allergy = Allergy.objects.create(patient=rosa, substance="Latex", source=Source.PATIENT)
    since = last_audit_id()
    response = doctor.post(f"{chart_url(rosa)}allergies/{allergy.uuid}/confirm/")
    assert (response.status_code, response["Location"]) == (302, f"{chart_url(rosa)}#allergies")
    allergy.refresh_from_db()
    assert (allergy.confirmed_by, allergy.confirmed_at is not None, allergy.source) == (bob, True, Source.PATIENT)
    assert history_rows(Allergy, allergy.pk)[-1] == ("~", "bob", "confirmed")
    assert new_audit_rows(since) == [("bob", "change", "allergy", str(allergy.uuid), rosa.pk, "allowed")]
    page = doctor.get(chart_url(rosa))
    assert "Allergy confirmed." in text(page)
    assert "Reported by the patient; confirmed by bob on " in section(page, "allergies")


def test_confirming_twice_is_refused_with_a_message_and_no_row(doctor: Client, schedule: Schedule, bob: User) -> None:
    rosa = schedule.rosa
    allergy = Allergy.objects.create(patient=rosa, substance="Latex", source=Source.PATIENT)
    doctor.post(f"{chart_url(rosa)}allergies/{allergy.uuid}/confirm/", follow=True)
    since = last_audit_id()
    response = doctor.post(f"{chart_url(rosa)}allergies/{allergy.uuid}/confirm/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["This was already confirmed."]
    assert [row[1] for row in new_audit_rows(since)] == ["view"]  # the chart shown after the redirect
    clinician = Allergy.objects.create(patient=rosa, substance="Iodine")
    response = doctor.post(f"{chart_url(rosa)}allergies/{clinician.uuid}/confirm/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "This was recorded by a clinician: there is nothing to confirm."
    ]


def test_marking_an_allergy_recorded_in_error_keeps_it_inactive_with_history(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    allergy = Allergy.objects.create(patient=rosa, substance="Latex")
    assert desk.post(f"{chart_url(rosa)}allergies/{allergy.uuid}/in-error/", follow=True).status_code == 200
    allergy.refresh_from_db()
    assert (allergy.is_active, history_rows(Allergy, allergy.pk)[-1]) == (False, ("~", "alice", "recorded in error"))
    response = desk.post(f"{chart_url(rosa)}allergies/{allergy.uuid}/in-error/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["This allergy was already marked as recorded in error."]


def test_another_patient_s_allergy_or_medication_is_a_404_under_this_chart(desk: Client, schedule: Schedule) -> None:
    theirs = Allergy.objects.create(patient=schedule.luis, substance="Latex", source=Source.PATIENT)
    their_drug = Medication.objects.create(patient=schedule.luis, name="Eliquis", source=Source.PATIENT)
    mine = chart_url(schedule.rosa)
    for path in (
        f"{mine}allergies/{theirs.uuid}/confirm/",
        f"{mine}allergies/{theirs.uuid}/in-error/",
        f"{mine}medications/{their_drug.uuid}/confirm/",
        f"{mine}medications/{their_drug.uuid}/stop/",
        f"{mine}medications/{theirs.uuid}/stop/",
    ):
        assert desk.post(path).status_code == 404, path
    theirs.refresh_from_db()
    their_drug.refresh_from_db()
    assert (theirs.confirmed_at, theirs.is_active, their_drug.confirmed_at, their_drug.is_active) == (
        None,
        True,
        None,
        True,
    )


def test_the_buttons_answer_post_only(desk: Client, schedule: Schedule) -> None:
    allergy = Allergy.objects.create(patient=schedule.rosa, substance="Latex", source=Source.PATIENT)
    assert desk.get(f"{chart_url(schedule.rosa)}allergies/{allergy.uuid}/confirm/").status_code == 405


# --- Medications ---------------------------------------------------------------------------------


def test_adding_a_medication_computes_its_drug_class_with_the_version(doctor: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = doctor.post(
        f"{chart_url(rosa)}medications/new/",
        {"name": "Eliquis", "dose": "5 mg twice a day", "drug_class": "other"},
    )
    assert (response.status_code, response["Location"]) == (302, f"{chart_url(rosa)}#medications")
    medication = Medication.objects.get()
    assert (medication.name, medication.dose, medication.drug_class, medication.classified_by) == (
        "Eliquis",
        "5 mg twice a day",
        Medication.DrugClass.ANTICOAGULANT,
        medications.VERSION,
    )
    assert new_audit_rows(since) == [("bob", "create", "medication", str(medication.uuid), rosa.pk, "allowed")]
    assert "Eliquis · 5 mg twice a day Flagged: Anticoagulant" in section(doctor.get(chart_url(rosa)), "medications")


def test_a_medication_without_a_name_is_refused_next_to_the_field(doctor: Client, schedule: Schedule) -> None:
    response = doctor.post(f"{chart_url(schedule.rosa)}medications/new/", {"name": "", "dose": "daily"})
    assert errors_of(response) == {"name": ["Please give the name of the medication."]}
    assert (response.context["form"].data["dose"], Medication.objects.count()) == ("daily", 0)


def test_confirming_a_reported_medication_classifies_it_again_when_an_older_list_did(
    doctor: Client, schedule: Schedule, bob: User
) -> None:
    rosa = schedule.rosa
    medication = Medication.objects.create(
        patient=rosa, name="Xarelto 20 mg", source=Source.PATIENT, drug_class="other", classified_by="drug-classes-0"
    )
    doctor.post(f"{chart_url(rosa)}medications/{medication.uuid}/confirm/")
    medication.refresh_from_db()
    assert (medication.drug_class, medication.classified_by, medication.confirmed_by) == (
        Medication.DrugClass.ANTICOAGULANT,
        medications.VERSION,
        bob,
    )
    assert history_rows(Medication, medication.pk)[-1] == ("~", "bob", "confirmed")


def test_stopping_a_medication_keeps_it_listed_as_stopped(desk: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    medication = Medication.objects.create(patient=rosa, name="Advil", drug_class=Medication.DrugClass.NSAID)
    since = last_audit_id()
    desk.post(f"{chart_url(rosa)}medications/{medication.uuid}/stop/")
    medication.refresh_from_db()
    assert (medication.is_active, history_rows(Medication, medication.pk)[-1]) == (False, ("~", "alice", "stopped"))
    assert new_audit_rows(since) == [("alice", "change", "medication", str(medication.uuid), rosa.pk, "allowed")]
    meds = section(desk.get(chart_url(rosa)), "medications")
    assert meds == ("Current medications No medications recorded. Add a medication 1 stopped medication Advil (NSAID)")
    with pytest.raises(services.ChartRefused):
        services.medication_confirm(medication=medication, by=User.objects.get(username="alice"))


# --- Medical history -----------------------------------------------------------------------------


def history_form(**changes: str) -> dict[str, str]:
    data = {
        "diabetes": "true",
        "smoking": "former",
        "cancer_history": "false",
        "cancer_details": "",
        "bleeding_disorder": "unknown",
        "prior_surgery_at_site": "Arthroscopy 2019",
        "notes": "",
    }
    data.update(changes)
    return data


def test_saving_the_medical_history_creates_it_confirmed_by_the_clinician(
    doctor: Client, schedule: Schedule, bob: User
) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = doctor.post(f"{chart_url(rosa)}history/", history_form())
    assert (response.status_code, response["Location"]) == (302, f"{chart_url(rosa)}#history")
    history = MedicalHistory.objects.get(patient=rosa)
    assert (
        history.diabetes,
        history.smoking,
        history.cancer_history,
        history.bleeding_disorder,
        history.prior_surgery_at_site,
        history.source,
        history.confirmed_by,
    ) == (True, "former", False, None, "Arthroscopy 2019", Source.CLINICIAN, bob)
    assert new_audit_rows(since) == [("bob", "create", "medical_history", str(rosa.uuid), rosa.pk, "allowed")]


def test_editing_a_patient_reported_history_keeps_its_source_and_confirms_it(
    doctor: Client, schedule: Schedule, bob: User
) -> None:
    rosa = schedule.rosa
    history = MedicalHistory.objects.create(patient=rosa, diabetes=False, source=Source.PATIENT)
    response = doctor.get(f"{chart_url(rosa)}history/")
    assert response.context["form"].initial["diabetes"] is False
    doctor.post(f"{chart_url(rosa)}history/", history_form(bleeding_disorder="true"))
    history.refresh_from_db()
    assert (history.diabetes, history.bleeding_disorder, history.source, history.confirmed_by) == (
        True,
        True,
        Source.PATIENT,
        bob,
    )
    assert history_rows(MedicalHistory, history.pk)[-1] == ("~", "bob", None)


def test_cancer_details_without_a_history_of_cancer_are_refused_next_to_them(
    doctor: Client, schedule: Schedule
) -> None:
    response = doctor.post(f"{chart_url(schedule.rosa)}history/", history_form(cancer_details="Melanoma 2010"))
    assert errors_of(response) == {
        "cancer_details": ["Details are for a history of cancer: choose “Yes” above, or clear this box."]
    }
    assert response.context["form"].data["prior_surgery_at_site"] == "Arthroscopy 2019"
    assert MedicalHistory.objects.count() == 0


def test_a_nonsense_answer_is_never_a_500(doctor: Client, schedule: Schedule) -> None:
    response = doctor.post(f"{chart_url(schedule.rosa)}history/", history_form(smoking="sometimes", diabetes="maybe"))
    assert response.status_code == 200
    assert errors_of(response) == {"smoking": ["Select a valid choice. sometimes is not one of the available choices."]}
    assert MedicalHistory.objects.count() == 0


def test_confirming_the_history_as_it_is(doctor: Client, schedule: Schedule, bob: User) -> None:
    rosa = schedule.rosa
    response = doctor.post(f"{chart_url(rosa)}history/confirm/", follow=True)
    assert [str(m) for m in response.context["messages"]] == ["There is no medical history to confirm yet."]
    history = MedicalHistory.objects.create(patient=rosa, smoking="never", source=Source.PATIENT)
    since = last_audit_id()
    doctor.post(f"{chart_url(rosa)}history/confirm/")
    history.refresh_from_db()
    assert (history.smoking, history.confirmed_by, history_rows(MedicalHistory, history.pk)[-1]) == (
        "never",
        bob,
        ("~", "bob", "confirmed"),
    )
    assert new_audit_rows(since) == [("bob", "change", "medical_history", str(rosa.uuid), rosa.pk, "allowed")]


def test_services_refuse_a_merged_chart(schedule: Schedule, bob: User) -> None:
    Patient.objects.filter(pk=schedule.luis.pk).update(merged_into=schedule.rosa)
    answers = HistoryAnswers(
        diabetes=None,
        smoking="unknown",
        cancer_history=None,
        cancer_details="",
        bleeding_disorder=None,
        prior_surgery_at_site="",
        notes="",
    )
    for call in (
        lambda: services.allergy_add(patient=schedule.luis, substance="Latex", by=bob),
        lambda: services.medication_add(patient=schedule.luis, name="Advil", by=bob),
        lambda: services.medical_history_save(patient=schedule.luis, answers=answers, by=bob),
    ):
        with pytest.raises(services.ChartRefused):
            call()
    assert (Allergy.objects.count(), Medication.objects.count(), MedicalHistory.objects.count()) == (0, 0, 0)


# --- Every page and button of the chart's edits --------------------------------------------------


@pytest.mark.parametrize("page", ["edit/", "allergies/new/", "medications/new/", "history/"])
def test_each_form_page_leaves_one_view_row_and_is_never_cached(desk: Client, schedule: Schedule, page: str) -> None:
    rosa = schedule.rosa
    since = last_audit_id()
    response = desk.get(chart_url(rosa) + page)
    assert (response.status_code, "no-store" in response["Cache-Control"]) == (200, True)
    assert new_audit_rows(since) == [("alice", "view", "patient", str(rosa.uuid), rosa.pk, "allowed")]


@pytest.mark.parametrize("role", ["technician", "manager", "researcher"])
def test_every_change_is_a_404_for_a_role_without_patient_change_and_changes_nothing(
    client: Client, schedule: Schedule, role: str
) -> None:
    rosa = schedule.rosa
    allergy = Allergy.objects.create(patient=rosa, substance="Latex", source=Source.PATIENT)
    medication = Medication.objects.create(patient=rosa, name="Advil", source=Source.PATIENT)
    MedicalHistory.objects.create(patient=rosa, source=Source.PATIENT)
    sign_in(client, User.objects.create_user("someone", password="someone-password-1", role=role))
    base = chart_url(rosa)
    posts = {
        "edit/": demographics(),
        "allergies/new/": {"substance": "Iodine"},
        "medications/new/": {"name": "Eliquis"},
        "history/": history_form(),
        "history/confirm/": {},
        f"allergies/{allergy.uuid}/confirm/": {},
        f"allergies/{allergy.uuid}/in-error/": {},
        f"medications/{medication.uuid}/confirm/": {},
        f"medications/{medication.uuid}/stop/": {},
    }
    since = last_audit_id()
    for path, data in posts.items():
        assert client.post(base + path, data).status_code == 404, path
    assert {row[1] for row in new_audit_rows(since)} == {"change"}
    assert {row[5] for row in new_audit_rows(since)} == {"denied"}
    allergy.refresh_from_db()
    medication.refresh_from_db()
    rosa.refresh_from_db()
    assert (allergy.confirmed_at, allergy.is_active, medication.confirmed_at, medication.is_active) == (
        None,
        True,
        None,
        True,
    )
    assert (rosa.first_name, Allergy.objects.count(), Medication.objects.count()) == ("Patient1", 1, 1)
    assert MedicalHistory.objects.get(patient=rosa).confirmed_at is None


def test_each_button_leaves_exactly_one_change_row(doctor: Client, schedule: Schedule) -> None:
    rosa = schedule.rosa
    allergy = Allergy.objects.create(patient=rosa, substance="Latex", source=Source.PATIENT)
    medication = Medication.objects.create(patient=rosa, name="Advil", source=Source.PATIENT)
    for path, kind, ref in [
        (f"allergies/{allergy.uuid}/in-error/", "allergy", allergy.uuid),
        (f"medications/{medication.uuid}/confirm/", "medication", medication.uuid),
    ]:
        since = last_audit_id()
        assert doctor.post(chart_url(rosa) + path).status_code == 302
        assert new_audit_rows(since) == [("bob", "change", kind, str(ref), rosa.pk, "allowed")]
