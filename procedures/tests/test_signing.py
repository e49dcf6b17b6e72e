"""What a signature covers: the canonical content, its serialisation and the paths an amendment changes."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from procedures import signing
from procedures.tests.conftest import Clinic, fill, signed, start

pytestmark = pytest.mark.django_db


def test_values_become_exact_json() -> None:
    moment = datetime(2031, 3, 5, 17, 35, tzinfo=UTC)
    assert [
        signing.plain(v)
        for v in (Decimal("357.30"), 0.1 + 0.2, moment, date(2031, 3, 5), UUID(int=1), True, None, 7, [{"g": 1.5}])
    ] == [
        "357.30",
        "0.30000000000000004",
        "2031-03-05T17:35:00.000000+00:00",
        "2031-03-05",
        "00000000-0000-0000-0000-000000000001",
        True,
        None,
        7,
        [{"g": "1.5"}],
    ]


def test_an_unexpected_type_is_refused_rather_than_guessed() -> None:
    with pytest.raises(TypeError):
        signing.plain(object())


def test_the_canonical_form_sorts_keys_and_has_no_spaces() -> None:
    assert signing.canonical_json({"b": 1, "a": {"d": "é", "c": [2, 1]}}) == '{"a":{"c":[2,1],"d":"é"},"b":1}'.encode()
    assert signing.digest({"b": 1, "a": 2}) == signing.digest({"a": 2, "b": 1})


def test_the_content_holds_every_section_field_but_not_the_bookkeeping(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    content = signing.record_content(record, list(record.injections.all()))
    assert set(content) == {"version", "record", "injections", "signature"}
    assert {"harvest_sample_label", "prp_platelets", "paw_code", "episode", "consent", "timeout_by"} <= set(
        content["record"]
    )
    assert not {"status", "signed_content", "signed_sha256", "updated_at", "updated_by"} & set(content["record"])
    assert content["record"]["episode"] == str(clinic.episode.uuid)
    assert list(content["injections"]) == [str(record.injections.get().uuid)]


def test_changed_paths_name_record_and_injection_fields() -> None:
    before = {"record": {"a": "1", "b": "2"}, "injections": {"u1": {"x": "1"}}}
    after = {"record": {"a": "1", "b": "3"}, "injections": {"u1": {"x": "2"}}}
    assert signing.changed_paths(before, after) == {"record.b": ["2", "3"], "injections.u1.x": ["1", "2"]}


def test_the_signed_content_names_the_signer_and_the_meaning(clinic: Clinic) -> None:
    record = signed(clinic)
    assert record.signed_content is not None
    assert record.signed_content["signature"] == {
        "signed_by": str(clinic.schedule.doctor.uuid),
        "signer": "Dr. Bob Example",
        "signed_at": "2031-03-05T18:45:00.000000+00:00",
        "meaning": "I performed it.",
        "baseline_override_reason": "",
    }
