"""The patient's questionnaire pages: from the emailed link to the thank-you page with their own progress."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from accounts import links
from accounts.models import AuditEvent, PatientLink
from outcomes import instruments, services
from outcomes import survey as surveys
from outcomes.models import FollowUp, Response, Score, SurgeryConversion, Timepoint
from outcomes.tests import factories

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
# Six weeks ago: the 6-week window is open today.
PROCEDURE = date.today() - timedelta(weeks=6)


def treated(**extra: Any) -> FollowUp:
    """A knee-osteoarthritis episode treated on PROCEDURE, its baseline answered, its 6-week follow-up open."""
    episode = factories.episode(status="treated", **extra)
    factories.baseline_answered(
        episode, at=datetime.combine(PROCEDURE - timedelta(days=9), datetime.min.time(), LA) + timedelta(hours=10)
    )
    services.schedule_create(episode=episode, procedure_date=PROCEDURE, zone=LA)
    week_6 = episode.follow_ups.get(timepoint=Timepoint.WEEK_6)
    week_6.status = FollowUp.Status.OPEN
    week_6.save(update_fields=["status"])
    return week_6


def opened(client: Client, follow_up: FollowUp) -> str:
    _link, token = links.link_issue(
        purpose=PatientLink.Purpose.QUESTIONNAIRE, patient=follow_up.episode.patient, target=follow_up.uuid
    )
    response = client.get(f"/questionnaire/{token}/")
    assert response.status_code == 302
    assert response["Location"] == "/questionnaire/"
    return token


def post_screen(client: Client, screen: surveys.Screen, pick: int = 0) -> Any:
    assert screen.instrument is not None
    answers = factories.complete_answers(screen.instrument.code, pick=pick)
    data = {item.code: str(answers[item.code]) for item in screen.items()}
    return client.post(f"/questionnaire/step/{screen.number}/", {**data, "go": "next"})


def test_the_screens_are_each_instrument_s_sections_then_the_surgery_question() -> None:
    follow_up = treated()
    found = surveys.screens(follow_up)
    expected = [
        (code, section.code) for code in ["KOOS", "NRS", "SANE", "PGIC"] for section in instruments.get(code).sections
    ]
    assert [(s.instrument.code, s.section.code) for s in found[:-1]] == expected  # type: ignore[union-attr]
    assert found[-1].is_surgery
    assert [s.number for s in found] == list(range(1, len(found) + 1))


def test_a_patient_answers_leaves_halfway_comes_back_and_finishes(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    screens = surveys.screens(follow_up)
    assert client.get("/questionnaire/")["Location"] == "/questionnaire/step/1/"
    for screen in screens[:3]:
        response = post_screen(client, screen, pick=-1)
        assert response.status_code == 302
        assert response["Location"] == f"/questionnaire/step/{screen.number + 1}/"
    # Away and back (same session): it picks up at the first unanswered screen.
    assert client.get("/questionnaire/")["Location"] == "/questionnaire/step/4/"
    for screen in screens[3:-1]:
        assert post_screen(client, screen, pick=-1).status_code == 302
    response = client.post(f"/questionnaire/step/{screens[-1].number}/", {"had_surgery": "no", "go": "next"})
    assert response["Location"] == "/questionnaire/done/"
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.COMPLETED
    assert follow_up.surgery_reported is False
    koos = Response.objects.get(follow_up=follow_up, instrument="KOOS")
    assert koos.status == Response.Status.SUBMITTED
    expected = instruments.get("KOOS").score(factories.complete_answers("KOOS", pick=-1))
    stored = {s.code: s.value for s in Score.objects.filter(response=koos)}
    assert stored == {code: result.value for code, result in expected.items()}
    done = client.get("/questionnaire/done/")
    assert done.status_code == 200
    assert b"Thank you" in done.content
    assert (
        done.content.count(b'<svg class="score-chart"')
        == Score.objects.filter(episode=follow_up.episode, timepoint=Timepoint.WEEK_6, value__isnull=False)
        .exclude(instrument="PGIC")
        .count()
        + 1
    )  # PGIC has no baseline but is still charted with one point


def test_a_screen_left_unanswered_says_which_question_and_keeps_the_ticks(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    screen = surveys.screens(follow_up)[0]
    items = screen.items()
    response = client.post("/questionnaire/step/1/", {items[0].code: "2", "go": "next"})
    assert response.status_code == 200
    assert response.content.count(b"Please choose one answer for this question.") == len(items) - 1
    assert f'value="2" id="id_{items[0].code}_2" required checked'.encode() in response.content
    assert not Response.objects.filter(follow_up=follow_up).exists()


def test_going_back_keeps_what_was_ticked_on_the_screen(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    screen = surveys.screens(follow_up)[1]
    first = screen.items()[0]
    response = client.post("/questionnaire/step/2/", {first.code: "3", "go": "back"})
    assert response["Location"] == "/questionnaire/step/1/"
    assert Response.objects.get(follow_up=follow_up, instrument="KOOS").answers == {first.code: 3}


def test_a_used_link_is_410_and_offers_a_new_one_by_email(client: Client) -> None:
    follow_up = treated()
    token = opened(client, follow_up)
    again = Client().get(f"/questionnaire/{token}/")
    assert again.status_code == 410
    assert b"Email me a new link" in again.content
    sent = Client().post(f"/questionnaire/{token}/")
    assert sent.status_code == 200
    assert PatientLink.objects.filter(target=str(follow_up.uuid), used_at__isnull=True).count() == 1


def test_an_unknown_token_is_404_and_no_session_is_404() -> None:
    assert Client().get("/questionnaire/" + "x" * 32 + "/").status_code == 404
    assert Client().get("/questionnaire/").status_code == 404
    assert Client().get("/questionnaire/step/1/").status_code == 404
    assert Client().get("/questionnaire/done/").status_code == 404


def test_patient_b_s_link_opens_only_patient_b_s_questionnaire() -> None:
    mine, theirs = treated(), treated()
    services.response_save(follow_up=mine, instrument="NRS", answers={"NRS": 7})
    client = Client()
    opened(client, theirs)
    page = client.get("/questionnaire/step/5/")
    assert page.status_code == 200
    assert b"checked" not in page.content
    services.response_save(follow_up=theirs, instrument="KOOS", answers={"S1": 1})
    assert Response.objects.get(follow_up=mine, instrument="NRS").answers == {"NRS": 7}


def test_a_missed_follow_up_takes_no_answers(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUp.Status.MISSED)
    response = post_screen(client, surveys.screens(follow_up)[0])
    assert response["Location"] == "/questionnaire/done/"
    assert not Response.objects.filter(follow_up=follow_up).exists()
    assert b"no longer takes answers" in client.get("/questionnaire/done/").content


def test_a_reported_operation_is_recorded_as_a_conversion_reported_by_the_patient(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    for screen in surveys.screens(follow_up)[:-1]:
        post_screen(client, screen)
    last = surveys.screens(follow_up)[-1].number
    refused = client.post(
        f"/questionnaire/step/{last}/",
        {"had_surgery": "yes", "surgery_date": (PROCEDURE - timedelta(days=30)).isoformat()},
    )
    assert refused.status_code == 200
    assert b"This date is before your treatment" in refused.content
    assert b"Please choose the operation" in refused.content
    client.post(
        f"/questionnaire/step/{last}/",
        {
            "had_surgery": "yes",
            "surgery_date": (PROCEDURE + timedelta(days=20)).isoformat(),
            "procedure": "arthroscopy",
        },
    )
    conversion = SurgeryConversion.objects.get(episode=follow_up.episode)
    assert (conversion.surgery_date, conversion.procedure, conversion.source) == (
        PROCEDURE + timedelta(days=20),
        "arthroscopy",
        SurgeryConversion.Source.PATIENT,
    )


def test_in_spanish_the_page_is_spanish_and_the_unvalidated_questions_stay_english(client: Client) -> None:
    follow_up = treated()
    _link, token = links.link_issue(
        purpose=PatientLink.Purpose.QUESTIONNAIRE, patient=follow_up.episode.patient, target=follow_up.uuid
    )
    assert client.get(f"/es/questionnaire/{token}/")["Location"] == "/es/questionnaire/"
    page = client.get("/es/questionnaire/step/1/")
    assert page.status_code == 200
    assert b"Guardar y continuar" in page.content
    assert b"These questions are in English" not in page.content
    assert "no tenemos una versión en español".encode() in page.content
    assert instruments.get("KOOS").items[0].text["en"].encode() in page.content


def test_each_page_shown_leaves_one_view_row_and_each_save_one_change_row(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    mark = AuditEvent.objects.count()
    client.get("/questionnaire/step/1/")
    post_screen(client, surveys.screens(follow_up)[0])
    rows = list(AuditEvent.objects.order_by("pk")[mark:].values_list("action", "object_type", "patient_id", "role"))
    patient = follow_up.episode.patient_id
    assert rows == [("view", "outcome", patient, "patient"), ("change", "outcome", patient, "patient")]


def test_the_migration_s_sets_are_the_default_sets() -> None:
    from outcomes.models import InstrumentSet

    stored = sorted(
        InstrumentSet.objects.values_list("indication", "site", "instrument", "after_treatment_only", "order")
    )
    assert stored == sorted(services.DEFAULT_SETS)


def test_an_indication_without_any_set_falls_back_to_the_defaults() -> None:
    from outcomes.models import InstrumentSet

    InstrumentSet.objects.all().delete()
    episode = factories.episode()
    assert services.instruments_for(episode, Timepoint.BASELINE) == ["KOOS", "NRS", "SANE"]
    assert services.instruments_for(episode, Timepoint.WEEK_6) == ["KOOS", "NRS", "SANE", "PGIC"]
    InstrumentSet.objects.create(indication="osteoarthritis", site="knee", instrument="KOOS_JR")
    assert services.instruments_for(episode, Timepoint.WEEK_6) == ["KOOS_JR"]


def test_visa_p_question_8_takes_exactly_one_of_a_b_or_c(client: Client) -> None:
    follow_up = treated(indication="patellar_tendonitis")
    opened(client, follow_up)
    screen = next(s for s in surveys.screens(follow_up) if s.section is not None and s.section.code == "8")
    url = f"/questionnaire/step/{screen.number}/"
    both = client.post(url, {"8A": "21", "8B": "10", "go": "next"})
    assert both.status_code == 200
    assert both.content.count(b"Please answer only one of these questions: the one that fits you.") == 3
    none = client.post(url, {"go": "next"})
    assert none.content.count(b"Please answer one of these questions: the one that fits you.") == 3
    assert not Response.objects.filter(follow_up=follow_up, instrument="VISA-P").exists()
    assert client.post(url, {"8B": "10", "go": "next"}).status_code == 302
    assert Response.objects.get(follow_up=follow_up, instrument="VISA-P").answers == {"8A": None, "8B": 10, "8C": None}
    assert services.missing_items(follow_up, "VISA-P") == [str(n) for n in range(1, 8)]


def test_a_window_that_closed_takes_no_answer_even_before_the_worker_records_the_miss(client: Client) -> None:
    follow_up = treated()
    opened(client, follow_up)
    after = datetime.combine(follow_up.closes_on + timedelta(days=1), datetime.min.time(), LA) + timedelta(hours=9)
    with pytest.raises(services.FollowUpClosed) as refused:
        services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 3}, now=after)
    assert refused.value.messages == ["This questionnaire's time has passed, so it no longer takes answers."]
    FollowUp.objects.filter(pk=follow_up.pk).update(closes_on=date.today() - timedelta(days=1))
    assert client.get("/questionnaire/")["Location"] == "/questionnaire/done/"
    assert b"no longer takes answers" in client.get("/questionnaire/done/").content
    assert not Response.objects.filter(follow_up=follow_up).exists()


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_sane_asks_about_the_treated_part_in_the_language_of_its_text(client: Client, prefix: str) -> None:
    follow_up = treated()
    _link, token = links.link_issue(
        purpose=PatientLink.Purpose.QUESTIONNAIRE, patient=follow_up.episode.patient, target=follow_up.uuid
    )
    client.get(f"{prefix}/questionnaire/{token}/")
    number = next(s.number for s in surveys.screens(follow_up) if s.instrument and s.instrument.code == "SANE")
    page = client.get(f"{prefix}/questionnaire/step/{number}/").content.decode()
    assert "{part}" not in page
    assert "How would you rate your knee today" in page
