"""The procedure record's writes: start, sections, classification, sign-off, amendments, verification.

Runs on SQLite and on PostgreSQL (DATABASE_URL): the hashes must be the same on both.
"""

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent
from patients.models import ConsentSignature, Episode
from procedures import services, signing
from procedures.models import Injection, ProcedureAmendment, ProcedureRecord
from procedures.product import CLASSIFICATION_VERSION
from procedures.tests.conftest import (
    COUNTS,
    HARVEST,
    INJECTION,
    LABEL,
    NOW,
    TIMEOUT,
    Clinic,
    at,
    fill,
    signed,
    signed_consent,
    start,
)
from scheduling.models import Appointment

pytestmark = pytest.mark.django_db

BETA = "\N{GREEK SMALL LETTER BETA}"


def audit_rows(after: int = 0) -> list[tuple[str, str, str, Any]]:
    return list(
        AuditEvent.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list("action", "object_type", "outcome", "patient")
    )


def last_audit() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- Starting ------------------------------------------------------------------------------------


def test_a_record_starts_on_the_episodes_valid_consent_and_the_visits_date(clinic: Clinic) -> None:
    mark = last_audit()
    record = start(clinic)
    assert (record.status, record.consent_id, record.procedure_date.isoformat()) == (
        "in_progress",
        clinic.episode.consents.get().pk,
        "2031-03-05",
    )
    assert (record.started_by, record.appointment, record.consent_override_reason) == (
        clinic.doctor,
        clinic.appointment,
        "",
    )
    assert audit_rows(mark) == [("create", "procedure", "allowed", clinic.rosa.pk)]


def test_the_procedure_date_is_the_offices_date_not_utcs(clinic: Clinic) -> None:
    # 16:30 in Los Angeles on the 5th is 00:30 UTC on the 6th.
    Appointment.objects.filter(pk=clinic.appointment.pk).update(
        starts_at=at("16:30"), ends_at=at("19:00"), blocks_until=at("19:30")
    )
    clinic.appointment.refresh_from_db()
    assert start(clinic).procedure_date.isoformat() == "2031-03-05"


def test_without_an_appointment_the_date_is_todays_in_the_practices_zone(clinic: Clinic) -> None:
    record = services.procedure_start(episode=clinic.episode, by=clinic.doctor, now=at("20:00"))
    assert (record.appointment, record.procedure_date.isoformat()) == (None, "2031-03-05")


def test_no_valid_consent_refuses_to_start_and_writes_nothing(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).delete()
    mark = last_audit()
    with pytest.raises(ValidationError) as refused:
        start(clinic)
    assert list(refused.value.message_dict) == ["consent_override_reason"]
    assert (ProcedureRecord.objects.count(), audit_rows(mark)) == (0, [])


def test_a_consent_whose_text_changed_by_one_byte_is_not_valid(clinic: Clinic) -> None:
    signature = clinic.episode.consents.get()
    ConsentSignature.objects.filter(pk=signature.pk).update(rendered_text=signature.rendered_text[:-1] + "!")
    with pytest.raises(ValidationError):
        start(clinic)
    assert ProcedureRecord.objects.count() == 0


def test_a_consent_whose_pdf_changed_by_one_byte_is_not_valid(clinic: Clinic) -> None:
    signature = clinic.episode.consents.get()
    pdf = bytearray(bytes(signature.pdf))
    pdf[-1] ^= 1
    ConsentSignature.objects.filter(pk=signature.pk).update(pdf=bytes(pdf))
    with pytest.raises(ValidationError):
        start(clinic)


def test_a_withdrawn_consent_is_not_valid(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).update(withdrawn_at=at("07:45"), withdrawn_reason="x")
    with pytest.raises(ValidationError):
        start(clinic)


def test_a_physician_may_start_without_consent_by_recording_the_reason(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).delete()
    record = start(clinic, consent_override_reason="  Signed on paper; the scan is on its way.  ")
    assert (record.consent, record.consent_override_reason, record.consent_override_by) == (
        None,
        "Signed on paper; the scan is on its way.",
        clinic.doctor,
    )


def test_a_physician_assistant_cannot_override_a_missing_consent(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).delete()
    with pytest.raises(ValidationError) as refused:
        start(clinic, by=clinic.pa, consent_override_reason="Paper consent")
    assert refused.value.message_dict == {
        "consent_override_reason": ["Only a physician can start without a valid consent."]
    }


def test_a_reason_is_not_kept_when_the_consent_is_valid(clinic: Clinic) -> None:
    record = start(clinic, consent_override_reason="just in case")
    assert (record.consent_override_reason, record.consent_override_by) == ("", None)


def test_a_technician_cannot_start_a_record(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        start(clinic, by=clinic.tech)


def test_one_record_per_episode_is_in_progress_at_a_time(clinic: Clinic) -> None:
    first = start(clinic)
    with pytest.raises(services.ProcedureRefused) as refused:
        start(clinic)
    assert (refused.value.record, ProcedureRecord.objects.count()) == (first, 1)


def test_a_new_record_may_start_once_the_last_one_is_signed(clinic: Clinic) -> None:
    signed(clinic)
    assert start(clinic).status == "in_progress"


def test_an_appointment_of_another_patient_is_refused(clinic: Clinic) -> None:
    Appointment.objects.filter(pk=clinic.appointment.pk).update(patient=clinic.luis)
    clinic.appointment.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        start(clinic)
    assert list(refused.value.message_dict) == ["appointment"]


def test_a_withdrawn_episode_cannot_start_even_with_a_reason(clinic: Clinic) -> None:
    Episode.objects.filter(pk=clinic.episode.pk).update(status=Episode.Status.WITHDRAWN)
    with pytest.raises(ValidationError):
        start(clinic, consent_override_reason="anyway")


# --- Sections ------------------------------------------------------------------------------------


def test_the_time_out_is_stamped_with_who_and_when_audited_and_kept_in_history(clinic: Clinic) -> None:
    record = start(clinic)
    mark = last_audit()
    saved = services.procedure_save_section(
        record=record, section="timeout", data=TIMEOUT, by=clinic.tech, now=at("09:01")
    )
    saved.refresh_from_db()
    assert (saved.timeout_by, saved.timeout_at, saved.timeout_identifiers) == (
        clinic.tech,
        at("09:01"),
        ["full_name", "date_of_birth"],
    )
    assert audit_rows(mark) == [("change", "procedure", "allowed", clinic.rosa.pk)]
    assert [h.history_user for h in saved.history.order_by("history_id")] == [clinic.doctor, clinic.tech]


def test_saving_one_section_keeps_another_saved_from_a_stale_copy(clinic: Clinic) -> None:
    record = start(clinic)
    stale = ProcedureRecord.objects.get(pk=record.pk)
    services.procedure_save_section(record=record, section="harvest", data=HARVEST, by=clinic.tech, now=NOW)
    services.procedure_save_section(record=stale, section="counts", data=COUNTS, by=clinic.tech, now=NOW)
    record.refresh_from_db()
    assert (record.harvest_sample_label, record.prp_platelets, record.harvest_by, record.counts_by) == (
        LABEL,
        Decimal("357.33"),
        clinic.tech,
        clinic.tech,
    )


def test_counts_are_classified_and_stored_with_the_rules_version(filled: ProcedureRecord) -> None:
    filled.refresh_from_db()
    assert (filled.paw_code, filled.cell_dose, filled.concentration_factor, filled.classification_version) == (
        f"P2-B{BETA}",
        100_000_000,
        2.0,
        CLASSIFICATION_VERSION,
    )
    assert filled.platelet_factor is not None
    assert round(filled.platelet_factor, 4) == 1.4847
    assert {k: filled.depa[k] for k in ("dose_grade", "efficiency_grade", "purity_grade")} == {
        "dose_grade": "C",
        "efficiency_grade": "C",
        "purity_grade": "B",
    }
    assert round(filled.depa["dose_billions"], 5) == 1.42932


def test_a_classification_that_cannot_be_computed_stores_why_not_a_zero(clinic: Clinic) -> None:
    record = start(clinic)
    record = services.procedure_save_section(
        record=record, section="counts", data={"prp_platelets": Decimal("357.33")}, by=clinic.tech, now=NOW
    )
    record.refresh_from_db()
    assert (record.paw_code, record.cell_dose, record.concentration_factor) == ("", None, None)
    assert list(record.depa) == ["not_computed"]
    assert record.depa["not_computed"].startswith("Needs: whole-blood platelets, blood drawn, PRP volume, PRP injected")


def test_removing_the_injection_recomputes_the_dose(filled: ProcedureRecord, clinic: Clinic) -> None:
    injection = filled.injections.get()
    record = services.procedure_save_section(
        record=filled,
        section="injections",
        data={"action": "remove", "injection": injection.uuid},
        by=clinic.doctor,
        now=NOW,
    )
    record.refresh_from_db()
    assert (Injection.objects.count(), record.cell_dose, record.depa["not_computed"][:6]) == (0, None, "Needs:")


def test_an_injection_of_another_record_cannot_be_removed_from_this_one(
    filled: ProcedureRecord, clinic: Clinic
) -> None:
    other = services.procedure_start(episode=clinic.other_episode, by=clinic.doctor, now=NOW)
    with pytest.raises(ValidationError):
        services.procedure_save_section(
            record=other,
            section="injections",
            data={"action": "remove", "injection": filled.injections.get().uuid},
            by=clinic.doctor,
            now=NOW,
        )
    assert Injection.objects.count() == 1


def test_more_prp_injected_than_prepared_is_refused_next_to_the_volume(filled: ProcedureRecord, clinic: Clinic) -> None:
    mark = last_audit()
    with pytest.raises(ValidationError) as refused:
        services.procedure_save_section(
            record=filled,
            section="injections",
            data={**INJECTION, "prp_ml": Decimal("0.50"), "concentrate_ml": None},
            by=clinic.doctor,
            now=NOW,
        )
    assert refused.value.message_dict == {
        "prp_ml": ["The injections add up to 4.50 mL of PRP, more than the 4.00 mL prepared."]
    }
    assert (Injection.objects.count(), audit_rows(mark)) == (1, [])


def test_an_invalid_value_saves_nothing_of_the_section(clinic: Clinic) -> None:
    record = start(clinic)
    mark = last_audit()
    with pytest.raises(ValidationError):
        services.procedure_save_section(
            record=record, section="counts", data={**COUNTS, "viability_pct": Decimal("101")}, by=clinic.tech, now=NOW
        )
    record.refresh_from_db()
    assert (record.prp_platelets, record.counts_by, audit_rows(mark)) == (None, None, [])


def test_a_signed_record_refuses_section_saves(clinic: Clinic) -> None:
    record = signed(clinic)
    with pytest.raises(ValidationError) as refused:
        services.procedure_save_section(
            record=record, section="rehab", data={"rehabilitation_protocol": "x"}, by=clinic.doctor, now=NOW
        )
    assert refused.value.messages == ["This record is signed: change it by an amendment, with a reason."]


def test_a_front_desk_user_cannot_save_a_section(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        services.procedure_save_section(record=start(clinic), section="timeout", data=TIMEOUT, by=clinic.desk, now=NOW)


# --- Sign-off ------------------------------------------------------------------------------------


def test_a_whole_record_signed_is_bound_to_the_hash_of_its_content(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    mark = last_audit()
    record = services.procedure_sign(record=record, by=clinic.doctor, meaning="I performed it.", now=at("10:45"))
    record.refresh_from_db()
    assert (record.status, record.signed_by, record.signed_at, record.signed_meaning) == (
        "signed",
        clinic.schedule.doctor,
        at("10:45"),
        "I performed it.",
    )
    content = record.signed_content
    assert content is not None
    assert record.signed_sha256 == signing.digest(content)
    assert content["record"]["harvest_sample_label"] == LABEL
    assert content["record"]["prp_platelets"] == "357.33"
    assert content["record"]["harvest_ended_at"] == "2031-03-05T17:35:00.000000+00:00"
    assert content["signature"]["signer"] == "Dr. Bob Example"
    assert audit_rows(mark) == [("sign", "procedure", "allowed", clinic.rosa.pk)]
    assert services.procedure_verify(record).ok is True


def test_signing_the_procedure_moves_its_episode_into_follow_up(clinic: Clinic) -> None:
    from patients.models import Episode

    record = fill(clinic, start(clinic))
    clinic.episode.refresh_from_db()
    assert clinic.episode.status == Episode.Status.CONSENTED  # started, not yet done
    services.procedure_sign(record=record, by=clinic.doctor, meaning="I performed it.", now=at("10:45"))
    clinic.episode.refresh_from_db()
    assert clinic.episode.status == Episode.Status.TREATED
    assert clinic.episode.history.first().history_user == clinic.doctor


def test_sign_off_names_every_missing_section(clinic: Clinic) -> None:
    record = start(clinic)
    with pytest.raises(ValidationError) as refused:
        services.procedure_sign(record=record, by=clinic.doctor, meaning="x", now=NOW)
    assert refused.value.messages == [
        "The time-out has not been done.",
        "No injection is recorded.",
        "The patient's identity has not been confirmed with two identifiers at the time-out.",
        "The harvest's start and end times are not both recorded.",
        "No sample label was recorded at the harvest.",
    ]


def test_a_label_mismatch_refuses_sign_off_naming_the_breach(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic), injections={"sample_label": "BMA-2031-0305-07"})
    with pytest.raises(ValidationError) as refused:
        services.procedure_sign(record=record, by=clinic.doctor, meaning="x", now=NOW)
    assert refused.value.messages == [
        "The sample label at injection 1 (BMA-2031-0305-07) does not match the label recorded at the harvest "
        "(BMA-2031-0305-01)."
    ]
    record.refresh_from_db()
    assert (record.status, record.signed_sha256) == ("in_progress", "")


def test_only_a_physician_signs(filled: ProcedureRecord, clinic: Clinic) -> None:
    for user in (clinic.pa, clinic.tech):
        with pytest.raises(PermissionDenied):
            services.procedure_sign(record=filled, by=user, meaning="x", now=NOW)


def test_a_physician_without_a_clinician_record_cannot_sign(filled: ProcedureRecord, clinic: Clinic) -> None:
    from accounts.models import Role, User

    locum = User.objects.create_user("locum", password="locum-password-1", role=Role.PHYSICIAN)
    with pytest.raises(ValidationError) as refused:
        services.procedure_sign(record=filled, by=locum, meaning="x", now=NOW)
    assert refused.value.messages == ["Your sign-in is not linked to a clinician of the practice, so it cannot sign."]


def test_a_blank_meaning_is_refused(filled: ProcedureRecord, clinic: Clinic) -> None:
    with pytest.raises(ValidationError) as refused:
        services.procedure_sign(record=filled, by=clinic.doctor, meaning="   ", now=NOW)
    assert refused.value.message_dict == {"meaning": ["Say what your signature means."]}


def test_the_baseline_hook_refuses_until_a_reason_is_recorded(
    filled: ProcedureRecord, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "baseline_check", lambda record: "No baseline questionnaire is on file.")
    with pytest.raises(ValidationError) as refused:
        services.procedure_sign(record=filled, by=clinic.doctor, meaning="x", now=NOW)
    assert refused.value.messages == ["No baseline questionnaire is on file."]
    record = services.procedure_sign(
        record=filled, by=clinic.doctor, meaning="x", now=NOW, baseline_override_reason="Patient declined."
    )
    assert record.signed_content is not None
    assert record.signed_content["signature"]["baseline_override_reason"] == "Patient declined."


# --- Verification: hashes failing on a one-byte change --------------------------------------------


def test_a_one_byte_change_to_the_signed_content_fails_verification(clinic: Clinic) -> None:
    record = signed(clinic)
    content = record.signed_content
    assert content is not None
    content["record"]["harvest_sample_label"] = LABEL[:-1] + "2"
    ProcedureRecord.objects.filter(pk=record.pk).update(signed_content=content)
    assert services.procedure_verify(record).problems == [
        "The signed content no longer matches its hash: it was changed after signing.",
        "The record differs from what was signed and amended: it was changed outside sign-off and amendment.",
    ]


def test_a_one_character_change_to_the_signed_hash_fails_verification(clinic: Clinic) -> None:
    record = signed(clinic)
    flipped = ("0" if record.signed_sha256[0] != "0" else "1") + record.signed_sha256[1:]
    ProcedureRecord.objects.filter(pk=record.pk).update(signed_sha256=flipped)
    assert services.procedure_verify(record).problems == [
        "The signed content no longer matches its hash: it was changed after signing."
    ]


def test_a_change_made_outside_an_amendment_fails_verification(clinic: Clinic) -> None:
    record = signed(clinic)
    ProcedureRecord.objects.filter(pk=record.pk).update(prp_platelets=Decimal("357.34"))
    assert services.procedure_verify(record).problems == [
        "The record differs from what was signed and amended: it was changed outside sign-off and amendment."
    ]


def test_a_change_to_an_injection_outside_an_amendment_fails_verification(clinic: Clinic) -> None:
    record = signed(clinic)
    Injection.objects.filter(record=record).update(sample_label=LABEL.lower())
    assert services.procedure_verify(record).ok is False


# --- Amendments ----------------------------------------------------------------------------------


def test_an_amendment_keeps_the_signed_original_and_records_before_and_after(clinic: Clinic) -> None:
    record = signed(clinic)
    original, original_hash = record.signed_content, record.signed_sha256
    mark = last_audit()
    amendment = services.procedure_amend(
        record=record,
        changes={"prp_platelets": Decimal("400.00")},
        reason="The lab re-ran the count.",
        by=clinic.tech,
    )
    record.refresh_from_db()
    assert (record.status, record.prp_platelets, record.signed_content, record.signed_sha256) == (
        "amended",
        Decimal("400.00"),
        original,
        original_hash,
    )
    assert amendment.changes["record.prp_platelets"] == ["357.33", "400.00"]
    # The computed fields that followed are in the amendment too.
    assert "record.depa" in amendment.changes
    assert "record.platelet_factor" in amendment.changes
    assert (amendment.reason, amendment.amended_by) == ("The lab re-ran the count.", clinic.tech)
    assert amendment.content_sha256 == signing.digest(
        signing.record_content(record, list(record.injections.order_by("injected_at")))
    )
    assert audit_rows(mark) == [("change", "procedure", "allowed", clinic.rosa.pk)]
    assert services.procedure_verify(record).ok is True


def test_two_amendments_replay_in_order(clinic: Clinic) -> None:
    record = signed(clinic)
    injection = record.injections.get()
    services.procedure_amend(
        record=record, changes={"rehabilitation_protocol": "Crutches 72 hours."}, reason="Typo", by=clinic.doctor
    )
    services.procedure_amend(
        record=record,
        changes={f"injections.{injection.uuid}.target_structure": "lateral compartment"},
        reason="Wrong compartment written",
        by=clinic.doctor,
    )
    assert ProcedureAmendment.objects.count() == 2
    assert services.procedure_verify(record).ok is True


def test_an_amendment_altered_afterwards_fails_verification(clinic: Clinic) -> None:
    record = signed(clinic)
    amendment = services.procedure_amend(
        record=record, changes={"rehabilitation_protocol": "Crutches 72 hours."}, reason="Typo", by=clinic.doctor
    )
    changes = amendment.changes
    changes["record.rehabilitation_protocol"][1] = "Crutches 73 hours."
    ProcedureAmendment.objects.filter(pk=amendment.pk).update(changes=changes)
    assert services.procedure_verify(record).problems == [
        "Amendment 1 does not match its hash.",
        "The record differs from what was signed and amended: it was changed outside sign-off and amendment.",
    ]


def test_an_amendment_needs_a_reason_and_a_change(clinic: Clinic) -> None:
    record = signed(clinic)
    with pytest.raises(ValidationError) as no_reason:
        services.procedure_amend(record=record, changes={"kit_lot": "LOT-43"}, reason=" ", by=clinic.doctor)
    assert no_reason.value.message_dict == {"reason": ["Give the reason for the amendment."]}
    with pytest.raises(ValidationError) as nothing:
        services.procedure_amend(record=record, changes={"kit_lot": "LOT-42"}, reason="check", by=clinic.doctor)
    assert nothing.value.messages == ["Nothing was changed."]
    assert ProcedureAmendment.objects.count() == 0


def test_an_in_progress_record_is_not_amended(filled: ProcedureRecord, clinic: Clinic) -> None:
    with pytest.raises(ValidationError):
        services.procedure_amend(record=filled, changes={"kit_lot": "x"}, reason="r", by=clinic.doctor)


def test_the_signature_fields_cannot_be_amended(clinic: Clinic) -> None:
    record = signed(clinic)
    with pytest.raises(ValueError, match="signed_meaning"):
        services.procedure_amend(record=record, changes={"signed_meaning": "other"}, reason="r", by=clinic.doctor)


def test_the_signed_hash_is_the_same_after_a_round_trip_through_the_database(clinic: Clinic) -> None:
    record = signed(clinic)
    fresh = ProcedureRecord.objects.get(pk=record.pk)
    rebuilt = signing.record_content(fresh, list(fresh.injections.order_by("injected_at")))
    assert (signing.digest(fresh.signed_content), signing.digest(rebuilt)) == (record.signed_sha256,) * 2


def test_a_second_episodes_consent_does_not_start_the_first(clinic: Clinic) -> None:
    ConsentSignature.objects.filter(episode=clinic.episode).delete()
    assert clinic.other_episode.consents.count() == 1
    with pytest.raises(ValidationError):
        start(clinic)
    signed_consent(clinic.episode)
    consent = start(clinic).consent
    assert consent is not None
    assert consent.episode == clinic.episode
