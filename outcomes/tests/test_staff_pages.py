"""The staff's outcomes pages: the call list and its calls, answers by phone, the timeline, the surgery record.

Personas: alice (front desk), bob (physician), charlie (processing technician), and staff
of the other roles made here. Follow-ups are built from today's date (the pages read the
real clock): `treated()` is a knee-osteoarthritis episode treated 45 days ago, its
baseline answered, its 6-week follow-up open since day 17 of its window (on the call list).
"""

import html
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES, audit_clear
from outcomes import instruments, scoring, services
from outcomes.models import FollowUp, FollowUpCall, Response, Score, SurgeryConversion, Timepoint
from outcomes.tests import factories
from patients.models import Episode, Patient
from procedures.models import AdverseEvent

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
CALLS = "/staff/outcomes/calls/"
PHONE = "(310) 555-0142"


def today() -> date:
    return timezone.localdate()


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LA)


def answer_all(follow_up: FollowUp, *, pick: int, when: datetime | None = None) -> FollowUp:
    """Every instrument of the follow-up answered online (the `pick`-th box of each item), then submitted."""
    for code in services.instruments_for(follow_up.episode, follow_up.timepoint):
        services.response_save(
            follow_up=follow_up, instrument=code, answers=factories.complete_answers(code, pick=pick)
        )
    return services.follow_up_submit(follow_up=follow_up, now=when)


def treated(*, days_ago: int = 45, email: bool = True, phone: str = PHONE) -> FollowUp:
    """An episode treated `days_ago` days ago, its baseline answered at the worst ends, its 6-week follow-up open."""
    procedure = today() - timedelta(days=days_ago)
    episode = factories.episode(status=Episode.Status.TREATED)
    Patient.objects.filter(pk=episode.patient_id).update(phone=phone, **({} if email else {"email": ""}))
    episode.refresh_from_db()
    baseline = services.baseline_open(episode=episode, now=at(procedure - timedelta(days=7)))
    answer_all(baseline, pick=-1, when=at(procedure - timedelta(days=7)))
    services.schedule_create(episode=episode, procedure_date=procedure, zone=LA)
    FollowUp.objects.filter(episode=episode, timepoint=Timepoint.WEEK_6).update(status=FollowUp.Status.OPEN)
    return episode.follow_ups.get(timepoint=Timepoint.WEEK_6)


def staff(role: str) -> User:
    return User.objects.create_user(f"user-{role}", password="a-password-for-tests", role=role, is_staff=True)


def signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def text(response: Any) -> str:
    """The page's main content as a person reads it: no tags, entities decoded, whitespace collapsed."""
    page = response.content.decode()
    main = page[page.index('<main id="main"') : page.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def day(value: date) -> str:
    return date_format(value, "DATE_FORMAT")


def entry_url(follow_up: FollowUp, code: str) -> str:
    return reverse("outcomes:phone_entry", kwargs={"uuid": follow_up.uuid, "instrument": code})


def call_url(follow_up: FollowUp) -> str:
    return reverse("outcomes:call_record", kwargs={"uuid": follow_up.uuid})


def timeline_url(episode: Episode) -> str:
    return reverse("outcomes:timeline", kwargs={"uuid": episode.uuid})


def surgery_url(episode: Episode) -> str:
    return reverse("outcomes:surgery", kwargs={"uuid": episode.uuid})


def audit_rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("id").values_list(
            "actor__username", "action", "object_type", "object_ref", "patient"
        )
    )


def form_data(answers: dict[str, Any]) -> dict[str, str]:
    return {code: str(value) for code, value in answers.items() if value is not None}


def varied(code: str) -> dict[str, Any]:
    """Every item of `code` answered, the boxes ticked in turn (a response that is not all one end)."""
    answers: dict[str, Any] = {}
    for n, item in enumerate(instruments.get(code).items):
        answers[item.code] = item.options[n % len(item.options)].code if item.options else item.low
    return answers


# --- The call list -------------------------------------------------------------------------------


def test_the_call_list_shows_whom_to_phone_with_their_number_time_point_window_and_last_call(alice: User) -> None:
    follow_up = treated()
    name = str(follow_up.episode.patient)
    response = signed_in(alice).get(CALLS)
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row.follow_up == follow_up
    assert (
        f"{name} {PHONE} Time point 6 weeks Window closes {day(follow_up.closes_on)} "
        "Physician Dr. Outcome Example Last call No call yet"
    ) in text(response)
    assert b'<a href="tel:3105550142">(310) 555-0142</a>' in response.content
    assert [(entry.instrument, entry.url, entry.answered) for entry in row.entries] == [
        (code, entry_url(follow_up, code), False) for code in ("KOOS", "NRS", "SANE", "PGIC")
    ]
    # One button per outcome of a call.
    assert re.findall(rb'name="outcome" value="([a-z_]+)"', response.content) == [
        b"answered",
        b"call_back",
        b"no_answer",
        b"declined",
    ]


def test_a_follow_up_still_within_its_reminders_is_not_listed_unless_the_patient_has_no_email(alice: User) -> None:
    reminded = treated(days_ago=40)  # its window opened 12 days ago: the second reminder was sent 2 days ago
    no_email = treated(days_ago=40, email=False)
    rows = signed_in(alice).get(CALLS).context["rows"]
    assert [row.follow_up for row in rows] == [no_email]
    assert reminded.status == FollowUp.Status.OPEN


def test_the_last_call_and_what_came_of_it_are_shown_and_an_instrument_answered_is_marked(alice: User) -> None:
    follow_up = treated()
    services.call_record(follow_up=follow_up, outcome="call_back", by=alice, now=at(today() - timedelta(days=3), 9))
    services.call_record(follow_up=follow_up, outcome="no_answer", by=alice, now=at(today() - timedelta(days=1), 11))
    services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 3})
    response = signed_in(alice).get(CALLS)
    [row] = response.context["rows"]
    assert row.last_call == FollowUpCall.objects.get(outcome="no_answer")
    assert "Last call " in text(response)
    assert "No answer / message left (alice)" in text(response)
    assert [(entry.instrument, entry.answered) for entry in row.entries] == [
        ("KOOS", False),
        ("NRS", True),
        ("SANE", False),
        ("PGIC", False),
    ]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FRONT_DESK, 200),
        (Role.PHYSICIAN, 200),
        (Role.PHYSICIAN_ASSISTANT, 200),
        (Role.ADMIN, 200),
        (Role.TECHNICIAN, 403),
        (Role.MANAGER, 403),
        (Role.RESEARCHER, 403),
    ],
)
def test_the_call_list_per_role(role: str, status: int) -> None:
    treated()
    response = signed_in(staff(role)).get(CALLS)
    assert response.status_code == status


def test_an_administrator_reads_the_call_list_but_can_neither_log_a_call_nor_enter_answers() -> None:
    treated()
    response = signed_in(staff(Role.ADMIN)).get(CALLS)
    [row] = response.context["rows"]
    assert (row.entries, b'name="outcome"' in response.content, b"Enter answers by phone" in response.content) == (
        [],
        False,
        False,
    )


def test_someone_not_signed_in_is_sent_to_sign_in() -> None:
    follow_up = treated()
    for path in (CALLS, entry_url(follow_up, "KOOS"), timeline_url(follow_up.episode)):
        response = Client().get(path)
        assert (response.status_code, response["Location"]) == (302, f"/accounts/sign-in/?next={path}")


def test_reading_the_call_list_leaves_one_audit_row_naming_the_day_and_the_count(alice: User) -> None:
    treated()
    treated(email=False)
    client = signed_in(alice)
    audit_clear()
    client.get(CALLS)
    assert audit_rows() == [("alice", "view", "follow_up", f"calls:{today().isoformat()}:2", None)]


@pytest.mark.parametrize("rows", [1, 3])
def test_the_call_list_asks_a_fixed_number_of_queries(alice: User, rows: int) -> None:
    follow_ups = [treated() for _n in range(rows)]
    for follow_up in follow_ups:
        services.call_record(follow_up=follow_up, outcome="no_answer", by=alice)
        services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 4})
    client = signed_in(alice)
    client.get(CALLS)  # warm the practice cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CALLS)
    assert len(response.context["rows"]) == rows
    # session, user, authenticator, follow-ups (with patient and physician), their calls (with who called),
    # their responses, the instrument sets, the audit row
    assert len(queries) == 8 + CHAIN_QUERIES, "\n".join(q["sql"][:100] for q in queries)


# --- Logging a call ------------------------------------------------------------------------------


def test_logging_a_call_records_it_with_its_audit_row_and_goes_back_to_the_list(alice: User) -> None:
    follow_up = treated()
    client = signed_in(alice)
    audit_clear()
    response = client.post(call_url(follow_up), {"outcome": "no_answer"})
    assert (response.status_code, response["Location"]) == (302, CALLS)
    assert list(FollowUpCall.objects.values_list("follow_up", "outcome", "called_by")) == [
        (follow_up.pk, "no_answer", alice.pk)
    ]
    assert audit_rows() == [("alice", "change", "follow_up", str(follow_up.uuid), follow_up.episode.patient_id)]
    assert "Call recorded (6 weeks follow-up): No answer / message left." in text(client.get(CALLS))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose what came of the call."),
        ({"outcome": "maybe"}, "Choose what came of the call from the buttons shown."),
    ],
)
def test_a_call_without_a_known_outcome_says_so_next_to_its_row_and_records_nothing(
    alice: User, data: dict[str, str], message: str
) -> None:
    follow_up = treated()
    response = signed_in(alice).post(call_url(follow_up), data)
    assert response.status_code == 200
    row = response.content.decode().split(f'id="call-{follow_up.uuid}"')[1]
    assert f'<ul class="errorlist" id="call-{follow_up.uuid}-error"><li>{message}</li></ul>' in row
    assert FollowUpCall.objects.count() == 0


def test_a_declined_call_takes_the_follow_up_off_the_list(alice: User) -> None:
    follow_up = treated()
    other = treated()
    client = signed_in(alice)
    client.post(call_url(follow_up), {"outcome": "declined"})
    assert [row.follow_up for row in client.get(CALLS).context["rows"]] == [other]


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 404), (Role.TECHNICIAN, 404), (Role.MANAGER, 404)])
def test_a_role_that_may_not_call_gets_a_404_and_nothing_is_recorded(role: str, status: int) -> None:
    follow_up = treated()
    response = signed_in(staff(role)).post(call_url(follow_up), {"outcome": "no_answer"})
    assert (response.status_code, FollowUpCall.objects.count()) == (status, 0)


def test_logging_a_call_is_a_post(alice: User) -> None:
    follow_up = treated()
    assert signed_in(alice).get(call_url(follow_up)).status_code == 405
    assert FollowUpCall.objects.count() == 0


# --- Answers by phone ----------------------------------------------------------------------------


def test_phone_entry_shows_every_koos_item_with_its_official_codes_on_one_page(alice: User) -> None:
    follow_up = treated()
    koos = instruments.get("KOOS")
    client = signed_in(alice)
    audit_clear()
    response = client.get(entry_url(follow_up, "KOOS"))
    assert response.status_code == 200
    radios = re.findall(r'type="radio" name="([^"]+)" value="(-?\d+)"', response.content.decode())
    assert radios == [
        (code, str(option.code))
        for section in koos.sections
        for code in section.items
        for option in koos.item(code).options
    ]
    page = text(response)
    assert "S1 Do you have swelling in your knee?" in page
    assert "0 Never 1 Rarely 2 Sometimes 3 Often 4 Always" in page
    assert [section.title["en"] for section in koos.sections] == [
        h2 for h2 in re.findall(r"<h2>([^<]+)</h2>", response.content.decode())
    ]
    assert audit_rows() == [("alice", "view", "follow_up", str(follow_up.uuid), follow_up.episode.patient_id)]


def test_answers_by_phone_score_a_koos_exactly_like_the_instrument_and_the_last_one_completes_it(
    alice: User,
) -> None:
    follow_up = treated()
    client = signed_in(alice)
    answers = varied("KOOS")
    response = client.post(entry_url(follow_up, "KOOS"), form_data(answers))
    assert (response.status_code, response["Location"]) == (302, entry_url(follow_up, "NRS"))
    koos = Response.objects.get(follow_up=follow_up, instrument="KOOS")
    assert (koos.answers, koos.mode, koos.entered_by, koos.status, koos.language) == (
        answers,
        Response.Mode.PHONE,
        alice,
        Response.Status.IN_PROGRESS,
        "en",
    )
    assert Score.objects.count() == Score.objects.filter(timepoint=Timepoint.BASELINE).count()
    for code, data, then in (
        ("NRS", {"NRS": "4"}, entry_url(follow_up, "SANE")),
        ("SANE", {"SANE": "70"}, entry_url(follow_up, "PGIC")),
    ):
        assert client.post(entry_url(follow_up, code), data)["Location"] == then
    audit_clear()
    last = client.post(entry_url(follow_up, "PGIC"), {"PGIC": "2", "surgery-had_surgery": "no"})
    assert (last.status_code, last["Location"]) == (302, CALLS)
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.surgery_reported) == (FollowUp.Status.COMPLETED, False)
    expected = instruments.get("KOOS").score(answers)
    stored = {s.code: (s.value, s.reason) for s in Score.objects.filter(response=koos)}
    assert stored == {code: (result.value, result.reason) for code, result in expected.items()}
    assert sorted(Response.objects.filter(follow_up=follow_up).values_list("instrument", "status", "mode")) == [
        ("KOOS", "submitted", "phone"),
        ("NRS", "submitted", "phone"),
        ("PGIC", "submitted", "phone"),
        ("SANE", "submitted", "phone"),
    ]
    pgic = Response.objects.get(follow_up=follow_up, instrument="PGIC")
    patient = follow_up.episode.patient_id
    assert audit_rows() == [
        ("alice", "change", "outcome", str(pgic.uuid), patient),
        ("alice", "change", "follow_up", str(follow_up.uuid), patient),
    ]
    assert "Every questionnaire of the 6 weeks follow-up is entered: it is complete and scored." in text(
        client.get(CALLS)
    )


def test_a_page_with_questions_unanswered_says_which_keeps_what_was_ticked_and_saves_nothing(alice: User) -> None:
    follow_up = treated()
    koos = instruments.get("KOOS")
    given = {item.code: 3 for item in koos.items[:10]}
    response = signed_in(alice).post(entry_url(follow_up, "KOOS"), form_data(given))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<li>Choose the patient&#x27;s answer to this question.</li>") == len(koos.items) - 10
    assert "Some questions have no answer: they are marked below. Nothing was saved." in page
    assert re.findall(r'name="([^"]+)" value="3" id="[^"]+" required checked', page) == list(given)
    assert Response.objects.filter(follow_up=follow_up).count() == 0


def test_a_code_the_item_does_not_have_is_refused_next_to_it(alice: User) -> None:
    follow_up = treated()
    response = signed_in(alice).post(entry_url(follow_up, "NRS"), {"NRS": "11"})
    assert response.status_code == 200
    assert "Select a valid choice. 11 is not one of the available choices." in text(response)
    assert Response.objects.filter(follow_up=follow_up).count() == 0


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (FollowUp.Status.MISSED, "window closed on {closes} without answers: it is recorded as missed"),
        (FollowUp.Status.COMPLETED, "This follow-up is already answered: it takes no more answers."),
    ],
)
def test_a_missed_or_answered_follow_up_says_so_and_takes_no_answers(alice: User, status: str, message: str) -> None:
    follow_up = treated()
    FollowUp.objects.filter(pk=follow_up.pk).update(status=status)
    client = signed_in(alice)
    expected = message.format(closes=f"{follow_up.closes_on:%B} {follow_up.closes_on.day}, {follow_up.closes_on.year}")
    page = client.get(entry_url(follow_up, "NRS"))
    assert (page.status_code, expected in text(page), b'class="form phone-entry"' in page.content) == (
        200,
        True,
        False,
    )
    refused = client.post(entry_url(follow_up, "NRS"), {"NRS": "4"})
    assert (refused.status_code, expected in text(refused)) == (409, True)
    assert Response.objects.filter(follow_up=follow_up).count() == 0


def test_a_follow_up_whose_window_has_not_opened_takes_no_answers_yet(alice: User) -> None:
    later = treated().episode.follow_ups.get(timepoint=Timepoint.MONTH_3)
    assert later.status == FollowUp.Status.SCHEDULED
    response = signed_in(alice).post(entry_url(later, "NRS"), {"NRS": "4"})
    opens = f"{later.opens_on:%B} {later.opens_on.day}, {later.opens_on.year}"
    assert (
        response.status_code,
        f"window opens on {opens}: answers can be entered from that day." in text(response),
    ) == (
        409,
        True,
    )
    assert Response.objects.filter(follow_up=later).count() == 0


def test_a_baseline_before_treatment_is_entered_by_phone_too(alice: User) -> None:
    episode = factories.episode(status=Episode.Status.CONSENTED)
    baseline = services.baseline_open(episode=episode)
    client = signed_in(alice)
    for code in ("KOOS", "NRS", "SANE"):
        assert client.post(entry_url(baseline, code), form_data(factories.complete_answers(code))).status_code == 302
    baseline.refresh_from_db()
    assert baseline.status == FollowUp.Status.COMPLETED
    # PGIC (change since treatment) is not asked before it.
    assert client.get(entry_url(baseline, "PGIC")).status_code == 404


@pytest.mark.parametrize("code", ["HOOS", "NOPE", "pgic-x"])
def test_an_instrument_the_follow_up_does_not_ask_is_a_404(alice: User, code: str) -> None:
    follow_up = treated()
    client = signed_in(alice)
    assert (
        client.get(entry_url(follow_up, code)).status_code,
        client.post(entry_url(follow_up, code)).status_code,
    ) == (
        404,
        404,
    )
    assert Response.objects.filter(follow_up=follow_up).count() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FRONT_DESK, 200),
        (Role.PHYSICIAN, 200),
        (Role.PHYSICIAN_ASSISTANT, 200),
        (Role.ADMIN, 404),
        (Role.TECHNICIAN, 404),
        (Role.MANAGER, 404),
    ],
)
def test_phone_entry_per_role(role: str, status: int) -> None:
    follow_up = treated()
    client = signed_in(staff(role))
    assert client.get(entry_url(follow_up, "NRS")).status_code == status
    posted = client.post(entry_url(follow_up, "NRS"), {"NRS": "4"})
    assert (posted.status_code, Response.objects.filter(follow_up=follow_up).count()) == (
        (302, 1) if status == 200 else (404, 0)
    )


def test_sane_asks_about_the_episode_s_own_part(alice: User) -> None:
    follow_up = treated()
    page = text(signed_in(alice).get(entry_url(follow_up, "SANE")))
    assert "SANE How would you rate your knee today as a percentage of normal" in page
    assert "{part}" not in page


def test_the_front_desk_types_answers_in_without_reading_those_already_saved(alice: User, bob: User) -> None:
    follow_up = treated()
    services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 6})
    desk = signed_in(alice).get(entry_url(follow_up, "NRS")).content.decode()
    doctor = signed_in(bob).get(entry_url(follow_up, "NRS")).content.decode()
    assert ("checked" in desk, re.findall(r'value="(\d+)" id="id_NRS_\d+" required checked', doctor)) == (False, ["6"])
    assert "already has answers saved for this follow-up: what you enter here replaces them." in desk


# --- Another patient's, or another kind of id -----------------------------------------------------


def _state() -> dict[str, list[Any]]:
    return {
        "calls": list(FollowUpCall.objects.values_list("pk", flat=True)),
        "responses": list(Response.objects.order_by("pk").values_list("pk", "answers", "status")),
        "follow_ups": list(FollowUp.objects.order_by("pk").values_list("pk", "status")),
        "surgery": list(SurgeryConversion.objects.values_list("pk", "surgery_date")),
    }


def test_an_id_of_another_kind_is_a_404_and_changes_nothing(bob: User) -> None:
    mine, theirs = treated(), treated()
    client = signed_in(bob)
    others = [
        theirs.episode.uuid,
        theirs.episode.patient.uuid,
        Response.objects.filter(follow_up__episode=theirs.episode).values_list("uuid", flat=True)[0],
    ]
    before = _state()
    found = []
    for other in others:
        found += [
            client.post(reverse("outcomes:call_record", kwargs={"uuid": other}), {"outcome": "no_answer"}).status_code,
            client.post(
                reverse("outcomes:phone_entry", kwargs={"uuid": other, "instrument": "NRS"}), {"NRS": "4"}
            ).status_code,
        ]
    for other in (mine.uuid, theirs.uuid, theirs.episode.patient.uuid):
        found += [
            client.get(reverse("outcomes:timeline", kwargs={"uuid": other})).status_code,
            client.post(
                reverse("outcomes:surgery", kwargs={"uuid": other}),
                {"surgery_date": today().isoformat(), "procedure": "other"},
            ).status_code,
        ]
    assert (found, _state()) == ([404] * 12, before)


def test_each_follow_up_s_answers_land_in_that_follow_up_only(alice: User) -> None:
    mine, theirs = treated(), treated()
    signed_in(alice).post(entry_url(theirs, "NRS"), {"NRS": "4"})
    assert list(
        Response.objects.filter(instrument="NRS", status="in_progress").values_list("follow_up", "answers")
    ) == [(theirs.pk, {"NRS": 4})]
    assert Response.objects.filter(follow_up=mine).count() == 0


# --- The timeline ------------------------------------------------------------------------------


def _series(response: Any, label: str) -> dict[str, Any]:
    return next(shown for shown in response.context["charts"] if shown["label"] == label)


def _rows(shown: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [(r.label, r.score, r.change, r.meaningful, r.reaches_pass) for r in shown["rows"]]


def test_the_timeline_charts_each_score_and_tables_it_with_change_mcid_and_pass(bob: User) -> None:
    follow_up = treated()
    answer_all(follow_up, pick=0)
    episode = follow_up.episode
    response = signed_in(bob).get(timeline_url(episode))
    assert response.status_code == 200
    shown = response.context["charts"]
    # KOOS's six scores, NRS, SANE, PGIC: a chart each, and a table beside it.
    assert [s["label"] for s in shown] == [
        "KOOS Symptoms",
        "KOOS Pain",
        "KOOS Function in daily living (ADL)",
        "KOOS Function in sport and recreation (Sport/Rec)",
        "KOOS Knee-related quality of life (QOL)",
        "KOOS JR interval score (from the KOOS items)",
        "Pain NRS (0-10)",
        "Patient Global Impression of Change (1-7)",
        "SANE (% of normal)",
    ]
    assert response.content.count(b'<svg class="score-chart"') == 9
    pain = _series(response, "KOOS Pain")
    assert _rows(pain) == [
        ("Before treatment", "0.0", "baseline", "—", "—"),
        ("6 weeks", "100.0", "+100.0", "Yes", "—"),
    ]
    source = instruments.get("KOOS").scores[1].mcid.source  # type: ignore[union-attr]
    assert pain["mcid"] == f"MCID: an improvement of 15 points (source: {source})"
    assert pain["pass"] == "No PASS published for this score."
    nrs = _series(response, "Pain NRS (0-10)")
    assert _rows(nrs) == [
        ("Before treatment", "10.0", "baseline", "—", "—"),
        ("6 weeks", "0.0", "-10.0", "Yes", "—"),
    ]
    assert nrs["mcid"].startswith("MCID: an improvement of 30% of the baseline (source: Farrar JT")
    jr = _series(response, "KOOS JR interval score (from the KOOS items)")
    assert (_rows(jr)[1][4], jr["pass"].startswith("PASS: ≥ 63.7 (source: ")) == ("Yes", True)
    assert response.context["responder"] == [
        ("6 weeks", True),
        ("3 months", None),
        ("6 months", None),
        ("12 months", None),
        ("24 months", None),
    ]
    page = text(response)
    assert "Responder Responder Unknown Unknown Unknown Unknown" in page
    week_6, month_3 = (episode.follow_ups.get(timepoint=t) for t in (Timepoint.WEEK_6, Timepoint.MONTH_3))
    assert f"6 weeks {day(week_6.target_date)} {day(week_6.opens_on)} to {day(week_6.closes_on)} Answered" in page
    assert f"Next due 3 months: window {day(month_3.opens_on)} to {day(month_3.closes_on)} (Scheduled)" in page
    assert "No adverse event recorded." in page
    assert "No conversion to surgery recorded. Record a conversion to surgery" in page


def test_a_score_that_cannot_be_computed_reads_not_scorable_with_its_reason(bob: User) -> None:
    follow_up = treated()
    partial = factories.response(follow_up, "KOOS", {"S1": 1, "S2": 1, "S3": 1, "S4": 1, "S5": 1})
    scoring.response_scores(partial)
    response = signed_in(bob).get(timeline_url(follow_up.episode))
    assert _rows(_series(response, "KOOS Knee-related quality of life (QOL)"))[1] == (
        "6 weeks",
        "not scorable: Only 0 of 4 QOL items answered; the KOOS guide needs at least 2.",
        "—",
        "—",
        "—",
    )


def test_the_timeline_shows_the_episode_s_adverse_events_and_its_surgery(bob: User) -> None:
    follow_up = treated()
    episode = follow_up.episode
    onset = today() - timedelta(days=40)
    event = AdverseEvent.objects.create(episode=episode, kind="haematoma", onset_date=onset, grade=2, serious=False)
    SurgeryConversion.objects.create(
        episode=episode,
        surgery_date=today() - timedelta(days=2),
        procedure="knee_replacement",
        details="Total knee replacement elsewhere.",
        source=SurgeryConversion.Source.PATIENT,
    )
    response = signed_in(bob).get(timeline_url(episode))
    page = text(response)
    assert f"Event Haematoma Grade 2 Moderate Onset {day(onset)}" in page
    assert reverse("procedures:adverse_event", kwargs={"uuid": event.uuid}).encode() in response.content
    assert (
        f"Date {day(today() - timedelta(days=2))} Operation Knee replacement Details Total knee replacement elsewhere. "
        "Recorded Reported by the patient in a follow-up Amend the conversion to surgery"
    ) in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.PHYSICIAN, 200),
        (Role.PHYSICIAN_ASSISTANT, 200),
        (Role.ADMIN, 200),
        (Role.FRONT_DESK, 404),
        (Role.TECHNICIAN, 404),
        (Role.MANAGER, 404),
        (Role.RESEARCHER, 404),
    ],
)
def test_the_timeline_per_role(role: str, status: int) -> None:
    follow_up = treated()
    response = signed_in(staff(role)).get(timeline_url(follow_up.episode))
    assert response.status_code == status
    if role == Role.ADMIN:
        assert b"conversion to surgery</a>" not in response.content


def test_reading_the_timeline_leaves_one_audit_row_naming_the_patient(bob: User) -> None:
    episode = treated().episode
    client = signed_in(bob)
    audit_clear()
    client.get(timeline_url(episode))
    assert audit_rows() == [("bob", "view", "outcome", str(episode.uuid), episode.patient_id)]


@pytest.mark.parametrize("events", [1, 3])
def test_the_timeline_asks_a_fixed_number_of_queries(bob: User, events: int) -> None:
    follow_up = treated()
    answer_all(follow_up, pick=0)
    for n in range(events):
        AdverseEvent.objects.create(
            episode=follow_up.episode, kind="haematoma", onset_date=today() - timedelta(days=n), grade=1, serious=False
        )
    client = signed_in(bob)
    client.get(timeline_url(follow_up.episode))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(timeline_url(follow_up.episode))
    assert len(response.context["events"]) == events
    # session, user, authenticator, episode (with patient and physician), audit row, follow-ups, scores,
    # surgery, adverse events
    assert len(queries) == 9 + CHAIN_QUERIES, "\n".join(q["sql"][:100] for q in queries)


# --- Conversion to surgery ------------------------------------------------------------------------


def test_a_clinician_records_a_conversion_to_surgery_and_goes_back_to_the_timeline(bob: User) -> None:
    episode = treated().episode
    client = signed_in(bob)
    audit_clear()
    when = today() - timedelta(days=3)
    response = client.post(
        surgery_url(episode),
        {"surgery_date": when.isoformat(), "procedure": "knee_replacement", "details": "Total knee, St. Vincent"},
    )
    assert (response.status_code, response["Location"]) == (302, timeline_url(episode))
    conversion = SurgeryConversion.objects.get()
    assert (
        conversion.episode,
        conversion.surgery_date,
        conversion.procedure,
        conversion.details,
        conversion.source,
        conversion.recorded_by,
    ) == (episode, when, "knee_replacement", "Total knee, St. Vincent", "staff", bob)
    assert audit_rows() == [("bob", "change", "outcome", str(conversion.uuid), episode.patient_id)]
    assert "Conversion to surgery recorded." in text(client.get(timeline_url(episode)))


def test_the_procedure_day_and_today_are_both_accepted(bob: User) -> None:
    follow_up = treated()
    client = signed_in(bob)
    procedure = follow_up.episode.follow_ups.get(timepoint=Timepoint.BASELINE).target_date
    for when in (procedure, today()):
        response = client.post(surgery_url(follow_up.episode), {"surgery_date": when.isoformat(), "procedure": "other"})
        assert response.status_code == 302
        assert SurgeryConversion.objects.get().surgery_date == when


def test_a_date_in_the_future_or_before_the_procedure_is_refused_next_to_the_field_and_kept(bob: User) -> None:
    follow_up = treated()
    episode = follow_up.episode
    procedure = episode.follow_ups.get(timepoint=Timepoint.BASELINE).target_date
    client = signed_in(bob)
    before = procedure - timedelta(days=1)
    cases = {
        (today() + timedelta(days=1)).isoformat(): (
            "This date is in the future: record a conversion once the operation has taken place."
        ),
        before.isoformat(): (
            f"This date is before the procedure of {procedure:%B} {procedure.day}, {procedure.year}: "
            "a conversion comes after treatment."
        ),
        "soon": "Enter a date, e.g. 2027-04-15.",
    }
    for typed, message in cases.items():
        response = client.post(surgery_url(episode), {"surgery_date": typed, "procedure": "arthroscopy"})
        assert response.status_code == 200
        assert response.context["form"].errors == {"surgery_date": [message]}
        assert f'value="{typed}"' in response.content.decode()
        assert '<option value="arthroscopy" selected>' in response.content.decode()
    missing = client.post(surgery_url(episode), {"surgery_date": today().isoformat()})
    assert missing.context["form"].errors == {"procedure": ["Choose the operation, or Other surgery."]}
    assert SurgeryConversion.objects.count() == 0


def test_a_conversion_is_amended_with_its_history_kept(bob: User) -> None:
    episode = treated().episode
    conversion = SurgeryConversion.objects.create(
        episode=episode,
        surgery_date=today() - timedelta(days=5),
        procedure="other",
        source=SurgeryConversion.Source.PATIENT,
    )
    client = signed_in(bob)
    page = client.get(surgery_url(episode)).content.decode()
    assert f'value="{(today() - timedelta(days=5)).isoformat()}"' in page
    assert "saving amends it, and its history is kept." in page
    response = client.post(
        surgery_url(episode), {"surgery_date": (today() - timedelta(days=4)).isoformat(), "procedure": "arthroscopy"}
    )
    assert response.status_code == 302
    conversion.refresh_from_db()
    assert (conversion.surgery_date, conversion.procedure, conversion.recorded_by) == (
        today() - timedelta(days=4),
        "arthroscopy",
        bob,
    )
    assert conversion.history.count() == 2
    assert SurgeryConversion.objects.count() == 1


def test_an_episode_not_yet_treated_records_no_conversion(bob: User) -> None:
    episode = factories.episode(status=Episode.Status.CONSENTED)
    services.baseline_open(episode=episode)
    response = signed_in(bob).post(surgery_url(episode), {"surgery_date": today().isoformat(), "procedure": "other"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This episode has no signed procedure yet: a conversion to surgery is recorded after treatment."
    ]
    assert SurgeryConversion.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.PHYSICIAN, 200),
        (Role.PHYSICIAN_ASSISTANT, 200),
        (Role.FRONT_DESK, 404),
        (Role.ADMIN, 404),
        (Role.TECHNICIAN, 404),
        (Role.MANAGER, 404),
    ],
)
def test_the_surgery_page_per_role(role: str, status: int) -> None:
    episode = treated().episode
    client = signed_in(staff(role))
    assert client.get(surgery_url(episode)).status_code == status
    posted = client.post(surgery_url(episode), {"surgery_date": today().isoformat(), "procedure": "other"})
    assert (posted.status_code, SurgeryConversion.objects.count()) == ((302, 1) if status == 200 else (404, 0))


# --- Every page ----------------------------------------------------------------------------------


def test_every_outcomes_staff_page_is_never_stored(bob: User) -> None:
    follow_up = treated()
    client = signed_in(bob)
    for path in (CALLS, entry_url(follow_up, "NRS"), timeline_url(follow_up.episode), surgery_url(follow_up.episode)):
        response = client.get(path)
        assert (response.status_code, "no-store" in response["Cache-Control"]) == (200, True), path


def test_the_staff_bar_offers_the_call_list_to_those_who_may_read_it(alice: User, charlie: User) -> None:
    link = b'<a href="/staff/outcomes/calls/">Follow-up calls</a>'
    assert link in signed_in(alice).get(CALLS).content
    assert link not in signed_in(charlie).get("/staff/").content


def test_the_episode_page_links_to_the_timeline_for_those_who_may_read_outcomes(alice: User, bob: User) -> None:
    episode = treated().episode
    link = f'href="{timeline_url(episode)}"'.encode()
    assert link in signed_in(bob).get(episode.get_absolute_url()).content
    assert link not in signed_in(alice).get(episode.get_absolute_url()).content


# --- The surgery question by phone, and calls about follow-ups no longer chased ------------------------------


def _all_but_pgic(client: Client, follow_up: FollowUp) -> None:
    for code, data in (("KOOS", form_data(varied("KOOS"))), ("NRS", {"NRS": "4"}), ("SANE", {"SANE": "70"})):
        assert client.post(entry_url(follow_up, code), data).status_code == 302


def test_only_the_page_that_completes_the_follow_up_asks_about_surgery(alice: User) -> None:
    follow_up = treated()
    client = signed_in(alice)
    assert "Surgery since the treatment" not in text(client.get(entry_url(follow_up, "PGIC")))
    _all_but_pgic(client, follow_up)
    assert "Surgery since the treatment" in text(client.get(entry_url(follow_up, "PGIC")))
    assert "Surgery since the treatment" not in text(client.get(entry_url(follow_up, "NRS")))


def test_completing_without_the_surgery_answer_says_so_keeps_what_was_ticked_and_saves_nothing(alice: User) -> None:
    follow_up = treated()
    client = signed_in(alice)
    _all_but_pgic(client, follow_up)
    response = client.post(entry_url(follow_up, "PGIC"), {"PGIC": "2"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please answer yes or no." in page
    assert re.search(r'<input type="radio" name="PGIC" value="2"[^>]*checked', page)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN
    assert not Response.objects.filter(follow_up=follow_up, instrument="PGIC").exists()


def test_a_surgery_reported_by_phone_is_recorded_as_the_staffs(alice: User) -> None:
    follow_up = treated()
    client = signed_in(alice)
    _all_but_pgic(client, follow_up)
    when = today() - timedelta(days=3)
    data = {
        "PGIC": "5",
        "surgery-had_surgery": "yes",
        "surgery-surgery_date": when.isoformat(),
        "surgery-procedure": SurgeryConversion.Procedure.KNEE_REPLACEMENT,
    }
    assert client.post(entry_url(follow_up, "PGIC"), data).status_code == 302
    follow_up.refresh_from_db()
    surgery = SurgeryConversion.objects.get(episode=follow_up.episode)
    assert (
        follow_up.surgery_reported,
        surgery.surgery_date,
        surgery.procedure,
        surgery.source,
        surgery.recorded_by,
    ) == (
        True,
        when,
        SurgeryConversion.Procedure.KNEE_REPLACEMENT,
        SurgeryConversion.Source.STAFF,
        alice,
    )


@pytest.mark.parametrize("status", [FollowUp.Status.COMPLETED, FollowUp.Status.MISSED])
def test_a_call_about_a_follow_up_answered_or_missed_is_refused_and_recorded_nowhere(alice: User, status: str) -> None:
    follow_up = treated()
    FollowUp.objects.filter(pk=follow_up.pk).update(status=status)
    response = signed_in(alice).post(call_url(follow_up), {"outcome": FollowUpCall.Outcome.NO_ANSWER}, follow=True)
    word = "answered" if status == FollowUp.Status.COMPLETED else "missed"
    assert f"No call recorded: the 6 weeks follow-up is {word} already, so it is off the call list." in text(response)
    assert not FollowUpCall.objects.exists()
