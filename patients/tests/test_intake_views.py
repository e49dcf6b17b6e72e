"""The patient's intake pages, as a browser sends them: the emailed link, the steps, coming back, sending.

Each test books Rosa's consultation (the front desk does it; the confirmation carries the
link), takes the link from the email, and uses the pages with Django's test client as her
browser. A second client is someone else's browser. Answers only ever travel in POST bodies.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import links
from accounts.models import AuditEvent, PatientLink
from outbox.models import Email
from patients import intake as intakes
from patients.models import Allergy, Intake, Medication
from patients.tests.test_intake import COMPLETE, TOKEN_IN, audit_mark, audit_queries, audit_since, book, fill
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db

# What a browser posts for each step (the finished answers of test_intake.COMPLETE).
POSTS: dict[str, dict[str, Any]] = {
    "concerns": {
        "areas-TOTAL_FORMS": "2",
        "areas-INITIAL_FORMS": "0",
        "areas-0-site": "knee",
        "areas-0-side": "right",
        "areas-0-duration": "1_2_years",
        "areas-0-other": "",
        "areas-1-site": "lumbar_spine",
        "areas-1-side": "midline",
        "areas-1-duration": "3_12_months",
        "areas-1-other": "",
        "pain_now": "6",
    },
    "treatments": {"tried": ["physical_therapy", "nsaids", "surgery"], "other": "", "surgery": "Arthroscopy, 2019"},
    "imaging": {"kinds": ["xray", "mri"], "when": "under_6_months"},
    "goals": {"goals": ["avoid_surgery", "walk_without_pain"], "own_words": "Hike with my grandchildren"},
    "medications": {
        "medications-TOTAL_FORMS": "3",
        "medications-INITIAL_FORMS": "0",
        "medications-0-name": "Eliquis",
        "medications-0-dose": "5 mg twice a day",
        "medications-1-name": "Metformin",
        "medications-1-dose": "",
        "medications-2-name": "",
        "medications-2-dose": "",
    },
    "allergies": {
        "allergies-TOTAL_FORMS": "2",
        "allergies-INITIAL_FORMS": "0",
        "allergies-0-substance": "Penicillin",
        "allergies-0-reaction": "Hives",
        "allergies-1-substance": "",
        "allergies-1-reaction": "",
    },
    "screening": {**{name: value for name, value in COMPLETE["screening"].items() if name != "details"}, "details": ""},
}


def step(key: str) -> str:
    return f"/intake/{key}/"


@pytest.fixture
def booked(schedule: Schedule, outbox_capture: Any) -> tuple[Intake, str]:
    """Rosa's consultation is booked: her intake, and the token of the link in her email."""
    appointment, token = book(schedule, outbox_capture)
    return appointment.intakes.get(), token


@pytest.fixture
def rosa(client: Client, booked: tuple[Intake, str]) -> Client:
    """Rosa's browser, with the emailed link opened."""
    _intake, token = booked
    assert client.get(f"/intake/{token}/")["Location"] == "/intake/"
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def post(client: Client, key: str, data: dict[str, Any] | None = None, go: str = "next") -> Any:
    return client.post(step(key), {**(POSTS[key] if data is None else data), "go": go})


# --- The link: once, then 410; unknown 404 ----------------------------------------------------------


def test_the_link_in_the_booking_email_opens_the_form_once(booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    [email] = mail.outbox
    assert f"http://127.0.0.1:8000/intake/{token}/" in email.body
    browser = Client()
    opened = browser.get(f"/intake/{token}/")
    assert (opened.status_code, opened["Location"]) == (302, "/intake/")
    page = browser.get("/intake/")
    assert page.status_code == 200
    assert "Step 1 of 8" in text(page)
    assert '<progress id="intake-progress" max="8" value="1">' in page.content.decode()
    assert "<h1>What brings you in</h1>" in page.content.decode()
    # Someone else with the same link: refused, and nothing of Rosa's is shown.
    replay = Client().get(f"/intake/{token}/")
    assert replay.status_code == 410
    assert "This link was already used" in text(replay)
    assert "For your privacy, each link opens the form only once." in text(replay)
    assert "Los Angeles office: (310) 555-0100" in text(replay)
    assert "Encino office: (818) 555-0100" in text(replay)
    assert "Email me a new link" in text(replay)
    link = PatientLink.objects.get()
    assert link.used_at is not None


def test_an_expired_link_is_410_and_says_so(client: Client, booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    PatientLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(f"/intake/{token}/")
    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert "For your privacy, a link to the form works for 14 days. Your answers so far are saved." in text(response)
    assert PatientLink.objects.get().used_at is None
    assert client.get("/intake/").status_code == 404


def test_a_replaced_link_is_410_and_points_at_the_newer_email(
    client: Client, booked: tuple[Intake, str], alice: Any
) -> None:
    intake, token = booked
    intakes.intake_resend(intake=intake, by=alice)
    response = client.get(f"/intake/{token}/")
    assert response.status_code == 410
    assert "We sent you a newer link" in text(response)
    assert "Please use the link in the most recent email from us." in text(response)


def test_an_unknown_or_mangled_token_is_404(client: Client, booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "concerns-not", "%00"):
        assert client.get(f"/intake/{wrong}/").status_code == 404
        assert client.post(f"/intake/{wrong}/").status_code == 404
    assert PatientLink.objects.get().used_at is None


def test_a_mail_scanners_head_request_does_not_use_the_link_up(client: Client, booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    assert client.head(f"/intake/{token}/").status_code == 405
    assert PatientLink.objects.get().used_at is None
    assert client.get(f"/intake/{token}/").status_code == 302


def test_a_replay_is_audited_as_refused_naming_the_patient(booked: tuple[Intake, str]) -> None:
    intake, token = booked
    Client().get(f"/intake/{token}/")
    mark = audit_mark()
    Client().get(f"/intake/{token}/")
    link = PatientLink.objects.get()
    assert audit_since(mark) == [(None, "", "view", "intake_link", str(link.uuid), intake.patient_id, "denied")]


# --- The session: one intake, one patient -----------------------------------------------------------


def test_without_a_session_every_step_is_a_404_that_says_how_to_get_back(
    client: Client, booked: tuple[Intake, str]
) -> None:
    for path in ("/intake/", step("concerns"), step("review")):
        response = client.get(path)
        assert response.status_code == 404
        assert "Please open the form from your email" in text(response)
    assert post(client, "concerns").status_code == 404
    intake, _token = booked
    intake.refresh_from_db()
    assert intake.answers == {}


def test_another_patients_link_never_shows_the_first_patients_intake(
    schedule: Schedule, outbox_capture: Any, rosa: Client, booked: tuple[Intake, str]
) -> None:
    rosas, _token = booked
    luis_appointment, luis_token = book(schedule, outbox_capture, patient=schedule.luis, at="14:00")
    luis_intake = luis_appointment.intakes.get()
    assert post(rosa, "concerns").status_code == 302
    luis = Client()
    assert luis.get(f"/intake/{luis_token}/").status_code == 302
    page = luis.get(step("concerns"))
    assert page.context["intake"] == luis_intake
    assert 'value="knee" selected' not in page.content.decode()
    assert post(luis, "goals").status_code == 302
    rosas.refresh_from_db()
    luis_intake.refresh_from_db()
    assert (sorted(rosas.answers), sorted(luis_intake.answers)) == (["concerns"], ["goals"])
    # Luis's link opened in Rosa's browser replaces her session: from then on it shows his, never both.
    _again, luis_second = book(schedule, outbox_capture, patient=schedule.luis, at="15:30")
    assert rosa.get(f"/intake/{luis_second}/").status_code == 302
    assert rosa.get(step("concerns")).context["intake"] == luis_intake


def test_a_session_opens_only_the_intake_and_patient_it_names(
    schedule: Schedule, outbox_capture: Any, rosa: Client
) -> None:
    luis_appointment, _token = book(schedule, outbox_capture, patient=schedule.luis, at="14:00")
    session = rosa.session
    opened = session[links.SESSION_KEY]
    # Rosa's session pointed at Luis's intake (a forged or stale cookie): the patient does not match.
    opened["intake"]["target"] = str(luis_appointment.intakes.get().uuid)
    session[links.SESSION_KEY] = opened
    session.save()
    assert rosa.get("/intake/").status_code == 404


def test_the_same_link_in_the_same_browser_resumes_while_the_session_lives(
    rosa: Client, booked: tuple[Intake, str]
) -> None:
    _intake, token = booked
    assert post(rosa, "concerns").status_code == 302
    assert post(rosa, "treatments").status_code == 302
    # Closed the tab, came back from the email: straight back in, at the first unfinished step.
    back = rosa.get(f"/intake/{token}/")
    assert (back.status_code, back["Location"]) == (302, "/intake/")
    page = rosa.get("/intake/")
    assert (page.context["section"].key, "Step 3 of 8" in text(page)) == ("imaging", True)
    assert PatientLink.objects.filter(used_at__isnull=False).count() == 1


def test_the_session_runs_out(rosa: Client) -> None:
    session = rosa.session
    opened = session[links.SESSION_KEY]
    opened["intake"]["until"] = timezone.now().timestamp() - 1
    session[links.SESSION_KEY] = opened
    session.save()
    assert rosa.get("/intake/").status_code == 404


# --- Saving, coming back, going back ----------------------------------------------------------------


def test_each_step_saves_and_moves_on_and_the_answers_come_back(rosa: Client, booked: tuple[Intake, str]) -> None:
    intake, _token = booked
    saved = post(rosa, "concerns")
    assert (saved.status_code, saved["Location"]) == (302, step("treatments"))
    intake.refresh_from_db()
    assert intake.answers == {"concerns": COMPLETE["concerns"]}
    page = rosa.get(step("concerns")).content.decode()
    assert page.count('<option value="knee" selected>') == 1
    assert '<option value="midline" selected>' in page
    assert 'value="6" id="id_pain_now_6" checked' in page
    assert rosa.get("/intake/").context["section"].key == "treatments"


def test_messages_sit_next_to_their_fields_and_what_was_typed_stays(rosa: Client, booked: tuple[Intake, str]) -> None:
    intake, _token = booked
    mark = audit_mark()
    data = {
        **POSTS["concerns"],
        "areas-0-side": "",
        "areas-0-duration": "",
        "areas-1-site": "other",
        "areas-1-other": "",
        "pain_now": "",
    }
    response = post(rosa, "concerns", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<div class="form-errors" role="alert" id="form-errors">' in page
    assert '<ul class="errorlist" id="id_areas-0-side_error"><li>Please choose the side.</li></ul>' in page
    assert 'id="id_areas-0-duration_error"><li>Please tell us how long you have had it.</li>' in page
    assert 'id="id_areas-1-other_error"><li>Please tell us which area.</li>' in page
    assert 'id="id_pain_now_error"><li>Please choose a number from 0 to 10.</li>' in page
    assert 'aria-describedby="id_areas-0-side_error"' in page
    assert 'aria-describedby="id_pain_now_error id_pain_now_helptext"' in page
    # What was typed is still there.
    assert page.count('<option value="knee" selected>') == 1
    assert '<option value="other" selected>' in page
    intake.refresh_from_db()
    assert intake.answers == {}
    assert [row[2] for row in audit_since(mark)] == []


@pytest.mark.parametrize(
    ("key", "changes"),
    [
        ("concerns", {"pain_now": "11"}),
        ("concerns", {"pain_now": "six"}),
        ("concerns", {"areas-0-site": "moon"}),
        ("concerns", {"areas-TOTAL_FORMS": "x"}),
        ("concerns", {"areas-TOTAL_FORMS": "5000"}),
        ("concerns", {"areas-0-other": "x" * 121}),
        ("treatments", {"tried": ["surgery", "magic"]}),
        ("goals", {"own_words": "x" * 501}),
        ("medications", {"medications-0-name": "x" * 200}),
        ("screening", {"fever": "sometimes"}),
    ],
)
@pytest.mark.parametrize("go", ["next", "back", "later", "add", "autosave", "nonsense"])
def test_bad_input_is_a_message_never_a_500_and_saves_nothing(
    rosa: Client, booked: tuple[Intake, str], key: str, changes: dict[str, Any], go: str
) -> None:
    intake, _token = booked
    response = post(rosa, key, {**POSTS[key], **changes}, go=go)
    if go == "autosave":
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert '<div class="form-errors" role="alert" id="form-errors">' in response.content.decode()
    intake.refresh_from_db()
    assert (intake.answers, Email.objects.count()) == ({}, 1)


def test_a_form_without_its_management_fields_is_a_message(rosa: Client) -> None:
    response = rosa.post(step("medications"), {"go": "next", "medications-0-name": "Aspirin"})
    assert response.status_code == 200
    assert "The page was sent incompletely. Please check your answers and save again." in text(response)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    key=st.sampled_from(list(POSTS)),
    junk=st.dictionaries(
        st.sampled_from(["pain_now", "areas-TOTAL_FORMS", "areas-0-site", "tried", "none", "fever", "kinds"]),
        st.text(max_size=12),
        max_size=5,
    ),
)
def test_any_post_gets_an_answer_never_a_500(rosa: Client, key: str, junk: dict[str, str]) -> None:
    assert rosa.post(step(key), {**POSTS[key], **junk}).status_code in (200, 204, 302, 400)


def test_back_keeps_what_is_typed_even_unfinished(rosa: Client, booked: tuple[Intake, str]) -> None:
    intake, _token = booked
    response = post(rosa, "imaging", {"kinds": ["mri"], "when": ""}, go="back")
    assert (response.status_code, response["Location"]) == (302, step("treatments"))
    intake.refresh_from_db()
    assert intake.answers == {"imaging": {"kinds": ["mri"], "when": ""}}
    page = rosa.get(step("imaging")).content.decode()
    assert 'value="mri" id="id_kinds_1" checked' in page


def test_add_another_saves_and_offers_one_more_row(rosa: Client, booked: tuple[Intake, str]) -> None:
    intake, _token = booked
    data = {**POSTS["medications"], "medications-2-name": "Vitamin D"}
    response = post(rosa, "medications", data, go="add")
    assert (response.status_code, response["Location"]) == (302, step("medications") + "?rows=4#medications-row-4")
    intake.refresh_from_db()
    assert [row["name"] for row in intake.answers["medications"]["medications"]] == [
        "Eliquis",
        "Metformin",
        "Vitamin D",
    ]
    page = rosa.get(response["Location"]).content.decode()
    assert page.count('<fieldset class="intake-row"') == 4
    assert '<fieldset class="intake-row" id="medications-row-4">' in page
    assert 'value="Vitamin D"' in page


def test_leaving_the_page_saves_in_the_background(rosa: Client, booked: tuple[Intake, str]) -> None:
    intake, _token = booked
    partial = {"goals": [], "own_words": "Dance at my daughter's wedding"}
    assert post(rosa, "goals", partial, go="autosave").status_code == 204
    intake.refresh_from_db()
    assert intake.answers == {"goals": {"goals": [], "own_words": "Dance at my daughter's wedding"}}


def test_finish_later_emails_a_new_link_ends_the_session_and_the_new_link_resumes(
    rosa: Client, booked: tuple[Intake, str], outbox_capture: Any
) -> None:
    intake, _token = booked
    post(rosa, "concerns")
    with outbox_capture(execute=True) as queued:
        response = post(rosa, "treatments", go="later")
    assert response.status_code == 200
    assert "Check your email" in text(response)
    assert "Your answers so far are saved. You can close this page." in text(response)
    [email] = [item.email for item in queued]
    assert (email.kind, email.to) == ("intake.link", "p1@example.com")
    intake.refresh_from_db()
    assert sorted(intake.answers) == ["concerns", "treatments"]
    assert rosa.get("/intake/").status_code == 404
    token = TOKEN_IN.search(email.body).group(1)  # type: ignore[union-attr]
    tomorrow = Client()
    assert tomorrow.get(f"/intake/{token}/").status_code == 302
    assert tomorrow.get("/intake/").context["section"].key == "imaging"


def test_the_410_page_emails_a_new_link_to_the_address_on_file_once_in_a_while(
    booked: tuple[Intake, str], outbox_capture: Any
) -> None:
    intake, token = booked
    Client().get(f"/intake/{token}/")
    later = Client()
    assert later.get(f"/intake/{token}/").status_code == 410
    with outbox_capture(execute=True) as queued:
        sent = later.post(f"/intake/{token}/")
        again = later.post(f"/intake/{token}/")
    assert sent.status_code == 200
    assert "We sent a new link to the email address we have for you." in text(sent)
    assert "We sent you a new link a moment ago." in text(again)
    [email] = [item.email for item in queued]
    assert email.to == intake.patient.email
    # The used link itself still opens nothing.
    assert later.get(f"/intake/{token}/").status_code == 410
    assert later.get("/intake/").status_code == 404


def test_a_link_still_good_is_opened_not_replaced_when_posted(client: Client, booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    response = client.post(f"/intake/{token}/")
    assert (response.status_code, response["Location"]) == (302, f"/intake/{token}/")
    assert (Email.objects.count(), PatientLink.objects.count()) == (1, 1)


# --- The review and sending -------------------------------------------------------------------------


def fill_all(client: Client) -> None:
    for key in POSTS:
        assert post(client, key).status_code == 302, key


def test_the_review_shows_every_answer_and_sending_lands_them_in_the_chart(
    rosa: Client, booked: tuple[Intake, str]
) -> None:
    intake, _token = booked
    fill_all(rosa)
    review = rosa.get("/intake/")
    assert review.context["section"].key == "review"
    shown = text(review)
    assert "Step 8 of 8" in shown
    assert "Area 1 Knee, Right, 1 to 2 years" in shown
    assert "Area 2 Lower back (lumbar spine), Midline (spine), 3 to 12 months" in shown
    assert "How bad is the pain right now, where it hurts most? 6 / 10" in shown
    assert "Medication 1 Eliquis, 5 mg twice a day" in shown
    assert "Allergy 1 Penicillin, Hives" in shown
    assert "not finished" not in shown
    sent = rosa.post(step("review"), {"go": "send"})
    assert (sent.status_code, sent["Location"]) == (302, "/intake/done/")
    done = rosa.get("/intake/done/")
    assert "Your answers were sent to the practice." in text(done)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert list(Medication.objects.values_list("name", "source")) == [("Eliquis", "patient"), ("Metformin", "patient")]
    assert list(Allergy.objects.values_list("substance", "source")) == [("Penicillin", "patient")]
    # The session ended; a second click on "Send" lands on the thank-you page and changes nothing.
    assert rosa.get("/intake/").status_code == 404
    twice = rosa.post(step("review"), {"go": "send"})
    assert (twice.status_code, twice["Location"]) == (302, "/intake/done/")
    assert Medication.objects.count() == 2


def test_sending_with_a_step_unfinished_goes_to_it_with_its_messages(rosa: Client) -> None:
    for key in ("concerns", "treatments", "imaging", "goals", "screening"):
        post(rosa, key)
    review = rosa.get(step("review"))
    assert "Some steps are not finished yet: Medications Allergies" in text(review)
    sent = rosa.post(step("review"), {"go": "send"})
    assert (sent.status_code, sent["Location"]) == (302, step("medications") + "?check=1")
    page = rosa.get(sent["Location"])
    assert "Please list your medications, or tick “I take no medications”." in text(page)
    assert Intake.objects.get().status == Intake.Status.IN_PROGRESS


def test_an_unused_link_of_a_sent_intake_lands_on_the_thank_you_page(booked: tuple[Intake, str]) -> None:
    intake, token = booked
    intakes.intake_submit(intake=fill(intake))
    browser = Client()
    assert browser.get(f"/intake/{token}/")["Location"] == "/intake/"
    assert browser.get("/intake/")["Location"] == "/intake/done/"


def test_a_used_link_of_a_sent_intake_offers_no_new_link(booked: tuple[Intake, str]) -> None:
    intake, token = booked
    Client().get(f"/intake/{token}/")
    intakes.intake_submit(intake=fill(intake))
    response = Client().get(f"/intake/{token}/")
    assert response.status_code == 410
    assert "Your form was already sent" in text(response)
    assert "Email me a new link" not in text(response)


# --- Audit, URLs, caching, queries ------------------------------------------------------------------


def test_every_page_view_and_change_leaves_one_row_naming_the_patient_as_patient(
    client: Client, booked: tuple[Intake, str]
) -> None:
    intake, token = booked
    mark = audit_mark()
    client.get(f"/intake/{token}/")
    client.get("/intake/")
    post(client, "concerns")
    client.get(step("treatments"))
    link = PatientLink.objects.get()
    ref, patient = str(intake.uuid), intake.patient_id
    assert audit_since(mark) == [
        (None, "patient", "view", "intake_link", str(link.uuid), patient, "allowed"),
        (None, "patient", "view", "intake", ref, patient, "allowed"),
        (None, "patient", "change", "intake", ref, patient, "allowed"),
        (None, "patient", "view", "intake", ref, patient, "allowed"),
    ]
    # The thank-you page shows nothing of theirs: no row.
    mark = audit_mark()
    client.get("/intake/done/")
    assert audit_since(mark) == []


def test_no_answer_ever_travels_in_a_url(rosa: Client, booked: tuple[Intake, str]) -> None:
    seen: list[str] = []
    for key in POSTS:
        response = post(rosa, key)
        seen.append(response["Location"])
        page = rosa.get(response["Location"]).content.decode()
        seen += re.findall(r'(?:href|action)="([^"]+)"', page)
    seen.append(rosa.post(step("review"), {"go": "send"})["Location"])
    intake_urls = sorted({url for url in seen if "/intake/" in url})
    steps = "concerns|treatments|imaging|goals|medications|allergies|screening|review"
    allowed = re.compile(rf"^(http://127\.0\.0\.1:8000)?(/es)?/intake/(({steps})/(\?check=1)?|done/)?$")
    assert [url for url in intake_urls if not allowed.match(url)] == []
    everything = " ".join(seen).lower()
    for answer in ("knee", "eliquis", "penicillin", "arthroscopy", "hike", "mri", "lumbar"):
        assert answer not in everything


def test_the_pages_are_never_stored_by_a_browser_or_proxy(rosa: Client, booked: tuple[Intake, str]) -> None:
    _intake, token = booked
    for response in (
        rosa.get("/intake/"),
        rosa.get(step("review")),
        Client().get(f"/intake/{token}/"),
        Client().get("/intake/"),
        rosa.get("/intake/done/"),
    ):
        assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("rows", [1, 3])
def test_a_step_with_rows_and_the_review_ask_a_fixed_number_of_queries(
    rosa: Client, booked: tuple[Intake, str], rows: int
) -> None:
    medications = [{"name": f"Medicine {n}", "dose": ""} for n in range(rows)]
    fill(booked[0])
    intakes.intake_save_section(
        intake=booked[0], section="medications", data={"none": False, "medications": medications}
    )
    rosa.get(step("medications"))  # warms the practice cache, as any earlier visitor would
    counts = []
    for path in (step("medications"), step("review")):
        with CaptureQueriesContext(connection) as queries:
            response = rosa.get(path)
        assert response.status_code == 200
        assert response.content.decode().count("Medicine ") == rows
        counts.append(len(queries))
    # The session, the intake with its patient and visit, and the audit row (what the log itself costs).
    # The rows are in the intake: none costs a query.
    assert counts == [2 + audit_queries()] * 2


# --- Spanish (needs artifacts/po/intake.po merged into locale/es) -----------------------------------


def test_the_spanish_link_opens_the_form_in_spanish(schedule: Schedule, outbox_capture: Any) -> None:
    from patients.models import Patient

    Patient.objects.filter(pk=schedule.rosa.pk).update(preferred_language="es")
    schedule.rosa.refresh_from_db()
    _appointment, token = book(schedule, outbox_capture)
    assert "Antes de su visita, por favor llene un formulario breve:" in mail.outbox[0].body
    browser = Client()
    opened = browser.get(f"/es/intake/{token}/")
    assert opened["Location"] == "/es/intake/"
    page = browser.get("/es/intake/")
    shown = text(page)
    assert "Paso 1 de 8" in shown
    assert "<h1>El motivo de su visita</h1>" in page.content.decode()
    assert "Guardar y continuar" in shown
    missing = browser.post("/es/intake/concerns/", {"areas-TOTAL_FORMS": "1", "areas-INITIAL_FORMS": "0", "go": "next"})
    assert "Por favor, elija un número del 0 al 10." in text(missing)
    assert Client().get(f"/es/intake/{token}/").status_code == 410
    assert "Este enlace ya se usó" in text(Client().get(f"/es/intake/{token}/"))


def test_no_health_words_in_the_email_of_a_new_link(
    rosa: Client, booked: tuple[Intake, str], outbox_capture: Any
) -> None:
    fill(booked[0])
    with outbox_capture(execute=True) as queued:
        post(rosa, "concerns", go="later")
    [email] = [item.email for item in queued]
    words = f"{email.subject} {TOKEN_IN.sub('LINK', email.body)}".lower()
    for word in ("knee", "pain", "eliquis", "penicillin", "allerg", "medic", "patient1", "example", "1960"):
        assert word not in words
    assert AuditEvent.objects.filter(object_type="intake", action="change", actor=None).exists()
