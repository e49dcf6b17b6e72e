"""The record's staff pages: who may open them, what they show, what a save does, bad input, audit, queries."""

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES
from patients.models import ConsentSignature
from procedures import services
from procedures.models import Injection, ProcedureRecord
from procedures.tests.conftest import INJECTION, LABEL, NOW, Clinic, at, fill, signed, start

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def url(name: str, record: ProcedureRecord, **kwargs: Any) -> str:
    return reverse(f"procedures:{name}", kwargs={"uuid": record.uuid, **kwargs})


def rows_since(mark: int) -> list[tuple[str, str, str, str, Any]]:
    return list(
        AuditEvent.objects.filter(pk__gt=mark)
        .order_by("pk")
        .values_list("action", "object_type", "object_ref", "outcome", "patient")
    )


def mark() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def persona(role: str) -> User:
    return User.objects.create_user(f"user-{role}", password="a-password-for-tests", role=role, is_staff=True)


# --- Reading the record --------------------------------------------------------------------------


def test_the_record_page_shows_the_time_out_facts_and_is_not_cached(filled: ProcedureRecord, clinic: Clinic) -> None:
    client = client_for(clinic.tech)
    before = mark()
    response = client.get(filled.get_absolute_url())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    for text in (
        "Patient1 Example",
        "RC000001",
        "Right knee: Osteoarthritis",
        "Penicillin (rash)",
        "Aspirin 81 mg daily (antiplatelet)",
        "Signed 03/05/2031, version 1",
    ):
        assert text in html, text
    assert "Metformin" not in html  # not a flagged medicine
    assert rows_since(before) == [("view", "procedure", str(filled.uuid), "allowed", clinic.rosa.pk)]


def test_the_record_page_shows_the_computed_product_and_the_checks(filled: ProcedureRecord, clinic: Clinic) -> None:
    html = re.sub(r"\s+", " ", client_for(clinic.doctor).get(filled.get_absolute_url()).content.decode())
    assert '<dd id="paw-code"><strong>P2-Bβ</strong></dd>' in html
    assert "Dose: 1.43 billion platelets injected, grade C" in html
    assert "<strong>100 million</strong> nucleated cells injected (4.00 mL)" in html
    assert "<strong>Harvest to first injection:</strong> 35 min" in html
    assert "no breach found" in html
    assert (
        'MIBO (PRP):</strong> <span class="ok">complete</span> <span class="muted">Not recordable here yet: '
        "how long the condition has lasted, local anaesthetic at the injection site.</span>"
    ) in html
    assert (
        'MIBO (BMAC):</strong> <span class="ok">complete</span> <span class="muted">Not recordable here yet: '
        "how long the condition has lasted, cell surface markers, local anaesthetic at the injection site.</span>"
    ) in html


def test_a_new_record_lists_the_missing_mibo_items_and_what_is_still_to_record(clinic: Clinic) -> None:
    html = re.sub(r"\s+", " ", client_for(clinic.doctor).get(start(clinic).get_absolute_url()).content.decode())
    assert "<summary>16 items missing</summary>" in html
    assert "<li>PRP-01: Volume of whole blood drawn.</li>" in html
    assert '<li data-code="harvest_label">No sample label was recorded at the harvest.</li>' in html


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER, Role.RESEARCHER])
def test_roles_without_the_clinical_record_get_a_404_and_a_denied_row(filled: ProcedureRecord, role: str) -> None:
    client = client_for(persona(role))
    before = mark()
    assert client.get(filled.get_absolute_url()).status_code == 404
    assert rows_since(before) == [("view", "procedure", str(filled.uuid), "denied", None)]


def test_an_unknown_record_is_a_404(clinic: Clinic) -> None:
    assert client_for(clinic.doctor).get(f"/staff/procedures/{uuid.uuid4()}/").status_code == 404


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(filled: ProcedureRecord) -> None:
    assert Client().get(filled.get_absolute_url()).status_code == 302


def record_page_queries(clinic: Clinic, record: ProcedureRecord) -> list[str]:
    client = client_for(clinic.doctor)
    client.get(record.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        client.get(record.get_absolute_url())
    return [q["sql"] for q in queries]


def test_the_record_page_asks_a_fixed_number_of_queries_with_1_and_3_injections(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    one = record_page_queries(clinic, record)
    for n in (1, 2):
        services.procedure_save_section(
            record=record,
            section="injections",
            data={**INJECTION, "prp_ml": None, "concentrate_ml": "0.50", "injected_at": at(f"10:{10 + n}")},
            by=clinic.doctor,
            now=NOW,
        )
    three = record_page_queries(clinic, record)
    assert record.injections.count() == 3
    assert len(one) == len(three)
    # Ours, besides the consent check (patients.consent asks its own) and the session's and savepoints'
    # bookkeeping: session, user, their authenticator, record (with its relations), injections, amendments,
    # audit row (chain head and, on PostgreSQL, its lock; insert), allergies, medications, adverse events,
    # and the baseline follow-up the sign-off asks about (outcomes.services.baseline_answered).
    ours = [
        sql
        for sql in three
        if not sql.startswith(("SAVEPOINT", "RELEASE", 'UPDATE "django_session"'))
        and 'FROM "patients_consent' not in sql
    ]
    assert len(ours) == 11 + CHAIN_QUERIES, [sql[:80] for sql in ours]


# --- Saving sections -----------------------------------------------------------------------------


def test_saving_a_section_redirects_to_it_and_keeps_the_others(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    ProcedureRecord.objects.filter(pk=record.pk).update(status="in_progress")
    client = client_for(clinic.tech)
    before = mark()
    response = client.post(
        url("section", record, section="rehab"), {"rehab-rehabilitation_protocol": "Walk with crutches for 2 days."}
    )
    assert (response.status_code, response["Location"]) == (302, f"{record.get_absolute_url()}#rehab")
    record.refresh_from_db()
    assert (record.rehabilitation_protocol, record.harvest_sample_label, record.prp_platelets) == (
        "Walk with crutches for 2 days.",
        LABEL,
        record.prp_platelets,
    )
    assert rows_since(before) == [("change", "procedure", str(record.uuid), "allowed", clinic.rosa.pk)]


def test_the_harvest_form_reads_times_in_the_offices_zone(clinic: Clinic) -> None:
    record = start(clinic)
    data = {
        "harvest-harvest_site": "posterior_iliac_crest",
        "harvest-harvest_side": "right",
        "harvest-aspirate_volume_ml": "60",
        "harvest-harvest_anticoagulant": "heparin",
        "harvest-harvest_started_at": "2031-03-05T09:15",
        "harvest-harvest_ended_at": "2031-03-05T09:35",
        "harvest-harvest_sample_label": LABEL,
    }
    assert client_for(clinic.tech).post(url("section", record, section="harvest"), data).status_code == 302
    record.refresh_from_db()
    assert (record.harvest_started_at, record.harvest_ended_at, record.harvest_by) == (
        at("09:15"),
        at("09:35"),
        clinic.tech,
    )


def test_a_bad_value_is_shown_next_to_its_field_and_what_was_typed_is_kept(clinic: Clinic) -> None:
    record = start(clinic)
    client = client_for(clinic.tech)
    before = mark()
    response = client.post(
        url("section", record, section="blood_draw"),
        {
            "blood_draw-blood_volume_ml": "lots",
            "blood_draw-blood_anticoagulant": "acd_a",
            "blood_draw-blood_drawn_at": "2031-03-05T09:05",
        },
    )
    assert response.status_code == 200
    form = response.context["sections"][1].form
    assert form.errors == {
        "blood_volume_ml": ["Enter a number."],
        "blood_anticoagulant_ml": ["Give the volume of anticoagulant."],
    }
    html = response.content.decode()
    assert 'value="lots"' in html
    assert 'value="2031-03-05T09:05"' in html
    record.refresh_from_db()
    assert (record.blood_by, record.blood_anticoagulant) == (None, "")
    # The page shown again with the patient on it is a read; nothing was changed.
    assert rows_since(before) == [("view", "procedure", str(record.uuid), "allowed", clinic.rosa.pk)]


def test_the_time_out_needs_two_identifiers(clinic: Clinic) -> None:
    record = start(clinic)
    response = client_for(clinic.doctor).post(
        url("section", record, section="timeout"),
        {
            "timeout-timeout_identifiers": ["full_name"],
            "timeout-timeout_site_side_confirmed": "on",
            "timeout-timeout_consent_confirmed": "on",
            "timeout-timeout_allergies_reviewed": "on",
        },
    )
    assert response.context["sections"][0].form.errors == {
        "timeout_identifiers": ["Check at least two identifiers."],
        "timeout_anticoagulants_reviewed": ["Confirm this before the time-out is done."],
    }


def test_a_refusal_of_the_service_is_shown_next_to_the_field(filled: ProcedureRecord, clinic: Clinic) -> None:
    data = {f"injection-{k}": v for k, v in INJECTION.items() if k != "action" and v is not None}
    data.update(
        {
            "action": "add",
            "injection-injected_at": "2031-03-05T10:20",
            "injection-prp_ml": "1",
            "injection-concentrate_ml": "",
        }
    )
    response = client_for(clinic.doctor).post(url("section", filled, section="injections"), data)
    assert response.status_code == 200
    assert response.context["sections"][5].form.errors == {
        "prp_ml": ["The injections add up to 5.00 mL of PRP, more than the 4.00 mL prepared."]
    }
    assert Injection.objects.count() == 1


def test_an_injection_of_another_record_is_not_removed_through_this_one(clinic: Clinic) -> None:
    mine = fill(clinic, start(clinic))
    theirs = services.procedure_start(episode=clinic.other_episode, by=clinic.doctor, now=NOW)
    response = client_for(clinic.doctor).post(
        url("section", theirs, section="injections"), {"action": "remove", "injection": str(mine.injections.get().uuid)}
    )
    # Another record's id is answered as an id nobody has: 404, nothing removed.
    assert response.status_code == 404
    assert Injection.objects.filter(record=mine).count() == 1


def test_an_unknown_section_is_a_404(clinic: Clinic) -> None:
    record = start(clinic)
    assert client_for(clinic.doctor).post(url("section", record, section="billing"), {}).status_code == 404


def test_a_signed_record_shows_its_sections_read_only_and_refuses_a_save(clinic: Clinic) -> None:
    record = signed(clinic)
    client = client_for(clinic.doctor)
    html = client.get(record.get_absolute_url()).content.decode()
    assert 'action="/staff/procedures/' not in html.split('id="timeout"')[1].split("</section>")[0]
    assert '<code class="hash">' + record.signed_sha256 in html
    response = client.post(url("section", record, section="rehab"), {"rehab-rehabilitation_protocol": "x"})
    assert response.status_code == 200
    assert "This record is signed: change it by an amendment, with a reason." in response.content.decode()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    section=st.sampled_from(["timeout", "blood_draw", "harvest", "processing", "counts", "injections", "rehab"]),
    junk=st.dictionaries(
        st.sampled_from(
            [
                "volume_ml",
                "blood_volume_ml",
                "prp_platelets",
                "harvest_started_at",
                "punctures",
                "spin1_g",
                "injected_at",
                "prp_ml",
                "viability_pct",
                "timeout_identifiers",
                "action",
            ]
        ),
        st.one_of(st.text(max_size=30), st.just("1e400"), st.just("-1"), st.just("NaN"), st.just("9" * 40)),
    ),
)
def test_no_input_makes_a_section_save_fail_with_a_500(clinic: Clinic, section: str, junk: dict[str, str]) -> None:
    record = ProcedureRecord.objects.first() or start(clinic)
    prefix = "injection" if section == "injections" else section
    data = {f"{prefix}-{key}" if key != "action" else key: value.replace("\x00", "") for key, value in junk.items()}
    response = client_for(clinic.doctor).post(url("section", record, section=section), data)
    assert response.status_code in (200, 302)


# --- Start ---------------------------------------------------------------------------------------


def start_url(clinic: Clinic) -> str:
    return reverse("procedures:start", kwargs={"episode": clinic.episode.uuid})


def test_the_start_page_shows_the_consent_and_todays_visit(clinic: Clinic) -> None:
    client = client_for(clinic.doctor)
    before = mark()
    response = client.get(start_url(clinic))
    assert response.status_code == 200
    assert "Signed 03/05/2031, version 1: valid" in response.content.decode()
    assert rows_since(before) == [("view", "episode", str(clinic.episode.uuid), "allowed", clinic.rosa.pk)]


def test_starting_from_the_episode_opens_the_record(clinic: Clinic) -> None:
    response = client_for(clinic.doctor).post(start_url(clinic), {})
    record = ProcedureRecord.objects.get()
    assert (response.status_code, response["Location"]) == (302, record.get_absolute_url())


def test_starting_twice_goes_to_the_record_in_progress(clinic: Clinic) -> None:
    client = client_for(clinic.doctor)
    client.post(start_url(clinic), {})
    response = client.post(start_url(clinic), {})
    assert (response.status_code, ProcedureRecord.objects.count()) == (302, 1)


def test_starting_without_consent_asks_a_physician_for_the_reason(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).delete()
    response = client_for(clinic.doctor).post(start_url(clinic), {"consent_override_reason": ""})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["consent_override_reason"]
    response = client_for(clinic.doctor).post(start_url(clinic), {"consent_override_reason": "Paper copy signed."})
    assert (response.status_code, ProcedureRecord.objects.get().consent_override_reason) == (302, "Paper copy signed.")


@pytest.mark.parametrize("who", ["tech", "desk"])
def test_a_technician_or_the_front_desk_cannot_start(clinic: Clinic, who: str) -> None:
    assert client_for(getattr(clinic, who)).post(start_url(clinic), {}).status_code == 404
    assert ProcedureRecord.objects.count() == 0


def test_an_appointment_outside_the_list_is_a_404_and_a_malformed_one_a_field_error(clinic: Clinic) -> None:
    client = client_for(clinic.doctor)
    assert client.post(start_url(clinic), {"appointment": str(uuid.uuid4())}).status_code == 404
    response = client.post(start_url(clinic), {"appointment": "not-an-id"})
    assert (response.status_code, list(response.context["form"].errors)) == (200, ["appointment"])
    assert not ProcedureRecord.objects.exists()


# --- Sign-off ------------------------------------------------------------------------------------


def test_the_physician_signs_from_the_sign_off_page(filled: ProcedureRecord, clinic: Clinic) -> None:
    client = client_for(clinic.doctor)
    before = mark()
    page = client.get(url("sign", filled))
    assert page.status_code == 200
    assert "Every section needed is filled and no same-day rule is breached." in page.content.decode()
    response = client.post(url("sign", filled), {"meaning": "I performed this procedure."})
    assert response.status_code == 302
    filled.refresh_from_db()
    assert (filled.status, filled.signed_meaning) == ("signed", "I performed this procedure.")
    assert [row[0] for row in rows_since(before)] == ["view", "sign"]


@pytest.mark.parametrize("who", ["pa", "tech"])
def test_the_sign_off_page_does_not_exist_for_others(filled: ProcedureRecord, clinic: Clinic, who: str) -> None:
    client = client_for(getattr(clinic, who))
    assert client.get(url("sign", filled)).status_code == 404
    assert client.post(url("sign", filled), {"meaning": "x"}).status_code == 404
    filled.refresh_from_db()
    assert filled.status == "in_progress"


def test_sign_off_with_a_breach_is_refused_with_the_breach_named(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic), injections={"sample_label": "BMA-2031-0305-07"})
    response = client_for(clinic.doctor).post(url("sign", record), {"meaning": "I performed this procedure."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The sample label at injection 1 (BMA-2031-0305-07) does not match the label recorded at the harvest "
        "(BMA-2031-0305-01)."
    ]
    record.refresh_from_db()
    assert record.status == "in_progress"


# --- Amend, verify ------------------------------------------------------------------------------


def test_an_amendment_from_the_amend_page(clinic: Clinic) -> None:
    record = signed(clinic)
    client = client_for(clinic.tech)
    page = client.get(url("amend", record) + "?section=rehab")
    assert page.status_code == 200
    response = client.post(
        url("amend", record),
        {"section": "rehab", "rehab-rehabilitation_protocol": "Crutches for 72 hours.", "reason": "Dictated wrong."},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.rehabilitation_protocol, record.amendments.get().reason) == (
        "amended",
        "Crutches for 72 hours.",
        "Dictated wrong.",
    )
    html = client.get(record.get_absolute_url()).content.decode()
    assert "Amendment 1, by charlie" in html
    assert "Reason: Dictated wrong." in html


def test_an_amendment_without_a_reason_keeps_what_was_typed(clinic: Clinic) -> None:
    record = signed(clinic)
    response = client_for(clinic.doctor).post(
        url("amend", record), {"section": "rehab", "rehab-rehabilitation_protocol": "Crutches for 72 hours."}
    )
    assert response.status_code == 200
    assert response.context["reason"].errors == {"reason": ["This field is required."]}
    assert "Crutches for 72 hours." in response.content.decode()
    assert record.amendments.count() == 0


def test_amending_another_records_injection_is_a_404(clinic: Clinic) -> None:
    record = signed(clinic)
    other = services.procedure_start(episode=clinic.other_episode, by=clinic.doctor, now=NOW)
    other_injection = Injection.objects.create(
        record=other,
        target_structure="hip",
        site="hip",
        side="left",
        guidance="ultrasound",
        prp_ml=1,
        injected_at=at("10:00"),
    )
    response = client_for(clinic.doctor).get(
        url("amend", record) + f"?section=injection&injection={other_injection.uuid}"
    )
    assert response.status_code == 404


def test_the_verify_page_says_whether_the_signature_holds(clinic: Clinic) -> None:
    record = signed(clinic)
    client = client_for(clinic.doctor)
    before = mark()
    html = client.get(url("verify", record)).content.decode()
    assert "The signature holds: the signed content matches its hash" in html
    assert rows_since(before) == [("view", "procedure", str(record.uuid), "allowed", clinic.rosa.pk)]
    ProcedureRecord.objects.filter(pk=record.pk).update(harvest_sample_label="BMA-2031-0305-02")
    assert "The signature does not hold:" in client.get(url("verify", record)).content.decode()
