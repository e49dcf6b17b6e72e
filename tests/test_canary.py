"""The canary patient: driven through every flow, then looked for everywhere health information must not be.

Zephyrine Quillfeather books online, asks for a call back, writes through Get In Touch
(her medical message refused there, a plain question taken), fills her intake from the
emailed link; the front desk reads her inquiry and call-back, the physician finds her
chart, confirms her intake, assesses her right knee and has her sign its consent on the
tablet; she answers her baseline from the emailed link; her procedure is recorded
section by section and signed, an adverse event reported; her left knee's consent is
emailed and she signs it at home; the front desk types in her 6-week answers by phone;
a researcher and an administrator export the practice's data. Every flow goes through
the real pages with Django's test client, as a browser would.

While she does, the test keeps every log record (any logger, DEBUG and up, as written
and as the token filter leaves it), every URL asked for and every redirect, every
email queued (its headers, text, HTML and attachments), the 404 and 500 pages, and
then reads every file under STATIC_ROOT, MEDIA_ROOT, VAR_DIR and the temporary
directory written during the test, and every key and value of the cache.

Her identifiers and the words of her medical message may be in none of them. Where
they are meant to be: the database, the identified CSV and the FHIR bulk files
(which exist to carry them; checked to hold her, so that the search is not vacuous),
and her own emails, which go to her address and may greet her by first name only.
"""

import base64
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import Role, User
from accounts.testing import sign_in
from interop.models import BulkExport
from outbox.models import Email
from outbox.worker import run_ready_tasks
from outcomes import invitations, services
from outcomes import schedule as follow_up_schedule
from outcomes import survey as surveys
from outcomes.models import FollowUp, Response, Timepoint
from outcomes.tests import factories
from patients.models import ConsentDocument, Episode, Intake, Patient
from patients.tests.episode_fixtures import png
from patients.tests.test_intake_views import POSTS as INTAKE_POSTS
from procedures.models import AdverseEvent, ProcedureRecord
from regenclinic.logfilters import redact
from scheduling.models import CallbackRequest
from scheduling.tests.conftest import LA_ZONE, Schedule, schedule
from website.models import Inquiry

__all__ = ["schedule"]
pytestmark = pytest.mark.django_db

FIRST, LAST = "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.quillfeather@canary.example"
PHONE = "(213) 555-0187"
BORN = date(1958, 7, 19)
# The words of her medical message: each one is found on no page, template or string of the site.
MEDICAL_WORDS = ["Marbleton", "trampoline", "Quuxaprofen", "vorticelline"]
MESSAGE = "Since the Marbleton trampoline fall my knee swells; I take Quuxaprofen and vorticelline drops"
SHORT = "Marbleton trampoline fall, Quuxaprofen"  # for fields that take less


def identifiers(mrn: str) -> dict[str, str]:
    """Each way her details are written, named for the message that says where one was found."""
    return {
        "first name": FIRST,
        "last name": LAST,
        "email": EMAIL,
        "email's local part": "zephyrine.quillfeather",
        "phone": PHONE,
        "phone digits": "2135550187",
        "phone line": "555-0187",
        "date of birth (ISO)": BORN.isoformat(),
        "date of birth (US)": BORN.strftime("%m/%d/%Y"),
        "date of birth (US, short)": f"{BORN.month}/{BORN.day}/{BORN.year}",
        "date of birth (Spanish)": BORN.strftime("%d/%m/%Y"),
        "date of birth (words)": "July 19, 1958",
        "MRN": mrn,
        "area of concern": "cartilage",
        **{f"medical word {word!r}": word for word in MEDICAL_WORDS},
    }


def found_in(text: str, *, where: str, canaries: dict[str, str], allowed: frozenset[str] = frozenset()) -> list[str]:
    """One line per canary found in `text` (case-insensitive), saying what was found and where.

    What is `allowed` there is taken out first: her address in an email's To header holds her last name.
    """
    lowered = text.lower()
    for name in sorted(allowed, key=lambda name: -len(canaries[name])):
        lowered = lowered.replace(canaries[name].lower(), " ")
    return [
        f"{where}: her {name} ({value!r})"
        for name, value in canaries.items()
        if name not in allowed and value.lower() in lowered
    ]


# --- What is captured while she goes through ------------------------------------------------------------------


class Keep(logging.Handler):
    """Every record: as a handler writes it (message and traceback), as the token filter leaves it, and its extras.

    The extras leave out `request`: an object Django hands to handlers, which none of ours writes out.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.seen: set[int] = set()  # a record heard on its own logger and again on each parent it propagates to
        self.formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) in self.seen:
            return
        self.seen.add(id(record))
        text = self.format(record)
        extras = {key: value for key, value in vars(record).items() if key not in EMPTY_RECORD | {"request"}}
        self.lines.append(f"{text} {redact(text)} {extras!r}")


EMPTY_RECORD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", (), None))) | {"message", "asctime"}
# Gunicorn's loggers are heard too, in case a step logs through them.
LOGGERS = ["", "django", "django.request", "django.server", "django.security", "gunicorn.error", "gunicorn.access"]


@pytest.fixture
def logs() -> Iterator[Keep]:
    """Every record from every logger at DEBUG and up, as with LOG_LEVEL=DEBUG (the most an operator can ask for).

    Loggers the settings give a level of their own (the database's, the tasks', axes', WeasyPrint's, the
    templates') keep it, as they would then: LOG_LEVEL sets the root's level only.
    """
    keep = Keep()
    saved = []
    configured_loggers = cast(dict[str, dict[str, Any]], settings.LOGGING["loggers"])
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.addHandler(keep)
        configured: dict[str, Any] = configured_loggers.get(name, {})
        if "level" not in configured:
            logger.setLevel(logging.DEBUG)
        logger.disabled = False
    yield keep
    for logger, level, disabled in saved:
        logger.removeHandler(keep)
        logger.setLevel(level)
        logger.disabled = disabled


class Browser(Client):
    """A test client that notes every URL it asks for (path and query) and every redirect it is sent to."""

    def __init__(self, asked: list[str], headers: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked, self.answered = asked, headers

    def request(self, **request: Any) -> Any:
        query = request.get("QUERY_STRING", "")
        self.asked.append(request["PATH_INFO"] + (f"?{query}" if query else ""))
        response = super().request(**request)
        self.answered += [f"{request['PATH_INFO']}: {name}: {value}" for name, value in response.items()]
        if response.has_header("Location"):
            self.asked.append("redirect to " + response["Location"])
        return response


@dataclass
class Trail:
    """What the canary leaves behind, gathered as she goes."""

    asked: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # of every response (a download's file name, say)
    error_pages: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)

    def browser(self, user: User | None = None, **kwargs: Any) -> Browser:
        client = Browser(self.asked, self.headers, **kwargs)
        if user is not None:
            sign_in(client, user)
        return client


def read(response: Any) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return str(response.content.decode())


def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 302)), (response.status_code, response.get("Location"))
    return response


# --- The flows, as a patient and as the staff go through them ------------------------------------------------


def book_online(trail: Trail) -> Browser:
    """The public booking: an office, a time, her details; the booked page, her manage page, the calendar file."""
    her = trail.browser()
    days = ok(her.get("/book/los-angeles/")).context["days"]
    slot = days[0].times[0].value
    ok(her.get("/book/los-angeles/details/", {"slot": slot}))
    booked = ok(
        her.post(
            "/book/los-angeles/details/",
            {
                "slot": slot,
                "first_name": FIRST,
                "last_name": LAST,
                "phone": PHONE,
                "email": EMAIL,
                "date_of_birth": BORN.isoformat(),
                "area_of_concern": "cartilage",
            },
        ),
        302,
    )
    manage = booked["Location"].replace("booked/", "")
    ok(her.get(booked["Location"]))
    ok(her.get(manage))
    ok(her.get(manage + "calendar.ics"))
    return her


def call_back_and_get_in_touch(trail: Trail, schedule: Schedule) -> None:
    """The call-back request and the contact form, each with her medical message where she could type it."""
    her = trail.browser()
    ok(
        her.post(
            "/book/los-angeles/callback/",
            {
                "office": str(schedule.la.pk),
                "name": f"{FIRST} {LAST}",
                "phone": PHONE,
                "email": EMAIL,
                "preferred_times": f"Mornings. {MESSAGE}",
                "website": "",
            },
        ),
        302,
    )
    contact = {
        "name": f"{FIRST} {LAST}",
        "email": EMAIL,
        "phone": PHONE,
        "preferred_office": "",
        "started": signing.dumps(time.time() - 30, salt="website.contact.started"),
        "website": "",
    }
    # The guard refuses a medical message (it stays on her page, nowhere else); a plain question goes through.
    ok(her.post("/contact/", {**contact, "message": MESSAGE}), 200)
    ok(her.post("/contact/", {**contact, "message": "Is there parking at the Encino office?"}), 302)


def links_in_her_mail(kind: str) -> list[str]:
    """The paths of the links of `kind` (intake, questionnaire, consent) in the emails delivered to her."""
    run_ready_tasks()
    found = []
    for message in mail.outbox:
        if EMAIL in message.to:
            found += re.findall(rf"http://127\.0\.0\.1:8000(/(?:es/)?{kind}/[A-Za-z0-9_-]+/)", str(message.body))
    return found


def fill_intake(trail: Trail) -> None:
    """The intake, from the link in her booking email, every step with her own words, then sent."""
    [link] = links_in_her_mail("intake")
    her = trail.browser()
    ok(her.get(link), 302)
    posts = dict(INTAKE_POSTS)
    posts["goals"] = {**posts["goals"], "own_words": MESSAGE}
    posts["treatments"] = {**posts["treatments"], "surgery": SHORT}
    posts["medications"] = {**posts["medications"], "medications-0-name": "Quuxaprofen"}
    for section, data in posts.items():
        ok(her.post(f"/intake/{section}/", {**data, "go": "next"}), 302)
    ok(her.get("/intake/review/"))
    ok(her.post("/intake/review/", {"go": "send"}), 302)
    assert Intake.objects.get(patient__email=EMAIL).status == Intake.Status.SUBMITTED


def front_desk_and_review(trail: Trail, patient: Patient, alice: User, bob: User) -> None:
    """The front desk reads her inquiry and her call-back request; the physician reads her intake and confirms it."""
    desk = trail.browser(alice)
    ok(desk.get("/staff/inquiries/"))
    ok(desk.get(f"/staff/inquiries/{Inquiry.objects.get(email=EMAIL).uuid}/"))
    ok(desk.get("/staff/calendar/callbacks/"))
    ok(desk.get("/staff/calendar/"))
    doctor = trail.browser(bob)
    # The search is by POST, so the terms are in no URL.
    found = ok(doctor.post("/staff/patients/", {"name": LAST, "date_of_birth": BORN.strftime("%m/%d/%Y")}), 200)
    assert [chart.patient for chart in found.context["results"].found] == [patient]
    intake = Intake.objects.get(patient=patient)
    ok(doctor.get(f"/staff/patients/intakes/{intake.uuid}/"))
    ok(doctor.post(f"/staff/patients/intakes/{intake.uuid}/confirm/"), 302)


def assess(doctor: Browser, patient: Patient, schedule: Schedule, side: str) -> Episode:
    """The physician's candidacy assessment of her `side` knee (the check, then the save): the episode it opens."""
    url = f"/staff/patients/{patient.uuid}/assessments/new/"
    data = {
        "indication": "osteoarthritis",
        "site": "knee",
        "side": side,
        "kl_grade": "2",
        "failed_care": ["physical_therapy", "nsaids"],
        "imaging": f"X-ray, {SHORT}",
        "decision": "candidate",
        "reason": MESSAGE,
        "physician": str(schedule.doctor.uuid),
        "checked": "",
    }
    checked = ok(doctor.post(url, {**data, "action": "save"}), 200)
    ok(doctor.post(url, {**data, "action": "save", "checked": checked.context["form"]["checked"].value()}), 302)
    return Episode.objects.get(patient=patient, side=side)


def signed_on_the_pad(page: Any) -> dict[str, str]:
    """What the signature pad's page posts: the document and text it showed, her printed name, her drawn signature."""
    return {
        "document": str(page.context["document"].uuid),
        "shown_sha256": page.context["text"].sha256,
        "printed_name": f"{FIRST} {LAST}",
        "signature_png": png(),
    }


def assess_and_consent(trail: Trail, patient: Patient, schedule: Schedule, bob: User) -> Episode:
    """Her chart read, her right knee assessed, and the consent signed on the office's tablet."""
    doctor = trail.browser(bob)
    ok(doctor.get(f"/staff/patients/{patient.uuid}/"))
    episode = assess(doctor, patient, schedule, "right")
    sign_url = f"/staff/patients/episodes/{episode.uuid}/consent/sign/"
    ok(doctor.post(sign_url, signed_on_the_pad(ok(doctor.get(sign_url)))), 302)
    episode.refresh_from_db()
    assert episode.status == Episode.Status.CONSENTED
    return episode


def consent_at_home(trail: Trail, patient: Patient, schedule: Schedule, bob: User) -> None:
    """Her left knee assessed; the front desk emails the consent's link; she signs it at home on her phone."""
    doctor = trail.browser(bob)
    episode = assess(doctor, patient, schedule, "left")
    ok(doctor.post(f"/staff/patients/episodes/{episode.uuid}/consent/link/"), 302)
    [link] = links_in_her_mail("consent")
    her = trail.browser()
    ok(her.get(link), 302)
    ok(her.post("/consent/", signed_on_the_pad(ok(her.get("/consent/")))), 302)
    ok(her.get("/consent/done/"))
    episode.refresh_from_db()
    assert episode.status == Episode.Status.CONSENTED


def answer_the_questionnaire(trail: Trail, follow_up: FollowUp) -> None:
    """Her follow-up from the emailed link: every screen, then the surgery question when there is one."""
    [link] = links_in_her_mail("questionnaire")
    her = trail.browser()
    ok(her.get(link), 302)
    screens = surveys.screens(follow_up)
    for screen in screens:
        if screen.is_surgery:
            ok(her.post(f"/questionnaire/step/{screen.number}/", {"had_surgery": "no", "go": "next"}), 302)
            continue
        assert screen.instrument is not None
        answers = factories.complete_answers(screen.instrument.code)
        values = {item.code: str(answers[item.code]) for item in screen.items()}
        ok(her.post(f"/questionnaire/step/{screen.number}/", {**values, "go": "next"}), 302)
    ok(her.get("/questionnaire/done/"))


def baseline(trail: Trail, episode: Episode) -> None:
    """The worker's pass opens her baseline and emails its link (at the hour invitations go); she answers."""
    now = timezone.now()
    zone = timezone.get_default_timezone()
    moment = max(now, follow_up_schedule.invitation_moment(timezone.localdate(now, zone), zone)) + timedelta(minutes=1)
    invitations.follow_ups_advance(now=moment)
    follow_up = FollowUp.objects.get(episode=episode, timepoint=Timepoint.BASELINE)
    answer_the_questionnaire(trail, follow_up)


def local(moment: str) -> str:
    """Today's date in Los Angeles at `moment` (HH:MM), as the record's forms take it."""
    return f"{timezone.localdate(timezone.now(), LA_ZONE).isoformat()}T{moment}"


def procedure(trail: Trail, episode: Episode, bob: User, charlie: User) -> ProcedureRecord:
    """The day's record: started, each section by whoever does it, signed; then an adverse event."""
    doctor, tech = trail.browser(bob), trail.browser(charlie)
    ok(doctor.get(f"/staff/procedures/start/{episode.uuid}/"))
    ok(doctor.post(f"/staff/procedures/start/{episode.uuid}/", {}), 302)
    record = ProcedureRecord.objects.get(episode=episode)
    base = f"/staff/procedures/{record.uuid}/"
    sections: list[tuple[Browser, str, dict[str, Any]]] = [
        (
            doctor,
            "timeout",
            {
                "timeout_identifiers": ["full_name", "date_of_birth"],
                "timeout_site_side_confirmed": "on",
                "timeout_consent_confirmed": "on",
                "timeout_allergies_reviewed": "on",
                "timeout_anticoagulants_reviewed": "on",
            },
        ),
        (
            tech,
            "blood_draw",
            {
                "blood_volume_ml": "13.5",
                "blood_anticoagulant": "acd_a",
                "blood_anticoagulant_ml": "1.5",
                "blood_drawn_at": local("09:05"),
            },
        ),
        (
            tech,
            "harvest",
            {
                "harvest_site": "posterior_iliac_crest",
                "harvest_side": "right",
                "anaesthetic": "lidocaine 1%",
                "anaesthetic_ml": "10",
                "needle": "trocar",
                "needle_gauge": "11 G",
                "punctures": "2",
                "ml_per_draw": "10",
                "aspirate_volume_ml": "60",
                "harvest_anticoagulant": "heparin",
                "harvest_started_at": local("09:15"),
                "harvest_ended_at": local("09:35"),
                "harvest_sample_label": "BMA-CANARY-01",
            },
        ),
        (
            tech,
            "processing",
            {
                "device": "Centrifuge X",
                "kit": "BMAC kit",
                "kit_lot": "LOT-42",
                "spin1_g": "1500",
                "spin1_minutes": "10",
                "spin2_g": "3000",
                "spin2_minutes": "5",
                "processing_input_ml": "60",
                "concentrate_volume_ml": "6",
                "prp_volume_ml": "4",
                "activation": "none",
                "added_agents": ["acd_a", "heparin", "saline"],
                "processing_done_at": local("10:00"),
            },
        ),
        (
            tech,
            "counts",
            {
                "baseline_platelets": "240.67",
                "baseline_wbc": "6.49",
                "baseline_neutrophils": "3.79",
                "baseline_rbc": "4.97",
                "prp_platelets": "357.33",
                "prp_wbc": "0.87",
                "prp_neutrophils": "0.10",
                "prp_rbc": "0.05",
                "aspirate_tnc": "12.5",
                "concentrate_tnc": "25",
                "cfu_f": "120",
                "viability_pct": "96.5",
            },
        ),
        (
            doctor,
            "injections",
            {
                "target_structure": "medial compartment",
                "site": "knee",
                "side": "right",
                "guidance": "ultrasound",
                "concentrate_ml": "4",
                "prp_ml": "4",
                "carrier": "none",
                "activation_agent": "none",
                "sample_label": "BMA-CANARY-01",
                "injected_at": local("10:10"),
            },
        ),
        (doctor, "rehab", {"rehabilitation_protocol": f"Crutches 48 hours. {MESSAGE}"}),
    ]
    for client, section, data in sections:
        prefix = "injection" if section == "injections" else section
        posted = {f"{prefix}-{key}": value for key, value in data.items()}
        if section == "injections":
            posted["action"] = "add"
        answer = client.post(f"{base}{section}/", posted)
        assert answer.status_code == 302, (section, answer.context["form"].errors if answer.context else None)
    ok(doctor.get(base))
    ok(doctor.post(f"{base}sign/", {"meaning": "I performed this procedure."}), 302)
    record.refresh_from_db()
    assert record.status == ProcedureRecord.Status.SIGNED
    ok(doctor.get(f"{base}record.pdf"))
    event = {
        "procedure": str(record.uuid),
        "kind": "harvest_site_pain",
        "kind_other": "",
        "description": MESSAGE,
        "onset_date": timezone.localdate(timezone.now(), LA_ZONE).isoformat(),
        "grade": "1",
        "serious": "no",
        "action": SHORT,
        "outcome": "recovering",
    }
    ok(doctor.post(f"/staff/procedures/episodes/{episode.uuid}/adverse-events/new/", event), 302)
    assert AdverseEvent.objects.get(episode=episode).description == MESSAGE
    return record


def six_weeks_by_phone(trail: Trail, episode: Episode, alice: User) -> None:
    """Six weeks on (her 6-week window moved to today), the front desk types in her answers by phone."""
    follow_up = FollowUp.objects.get(episode=episode, timepoint=Timepoint.WEEK_6)
    today = timezone.localdate(timezone.now(), LA_ZONE)
    FollowUp.objects.filter(pk=follow_up.pk).update(
        status=FollowUp.Status.OPEN, opens_on=today - timedelta(days=3), closes_on=today + timedelta(days=10)
    )
    desk = trail.browser(alice)
    ok(desk.get("/staff/outcomes/calls/"))
    wanted = services.instruments_for(episode, Timepoint.WEEK_6)
    for n, code in enumerate(wanted):
        answers = factories.complete_answers(code)
        data = {key: str(value) for key, value in answers.items() if value is not None}
        if n == len(wanted) - 1:
            data.update({"surgery-had_surgery": "no"})
        ok(desk.post(f"/staff/outcomes/follow-ups/{follow_up.uuid}/answers/{code}/", data), 302)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.COMPLETED
    assert Response.objects.filter(follow_up=follow_up).count() == len(wanted)


def export(trail: Trail, rhea: User, ada: User) -> None:
    """The de-identified CSV (researcher); the identified CSV and the FHIR bulk export (administrator, worker)."""
    researcher, admin = trail.browser(rhea), trail.browser(ada)
    trail.exports["de-identified CSV"] = read(ok(researcher.get("/staff/exports/deidentified.csv")))
    reason = {"identified-reason": "A registry asks for the treated patients' record numbers."}
    trail.exports["identified CSV"] = read(ok(admin.post("/staff/exports/identified.csv", reason)))
    ok(admin.post("/staff/exports/fhir/"), 302)
    run_ready_tasks()
    bulk = BulkExport.objects.get()
    assert bulk.status == "done", bulk.error
    for resource in bulk.counts:
        trail.exports[f"FHIR {resource}"] = read(ok(admin.get(f"/staff/exports/fhir/{bulk.uuid}/{resource}.ndjson")))


def error_pages(trail: Trail) -> None:
    """A 404 and a 500, each asked with her details in the query, as a link pasted with them might be."""
    query = {"email": EMAIL, "name": f"{FIRST} {LAST}", "note": MESSAGE}
    # Asked with a plain client: these URLs carry her details because the test put them there.
    visitor = Client()
    trail.error_pages["404"] = read(ok(visitor.get("/no-such-page/", query), 404))
    with override_settings(ROOT_URLCONF="tests.error_urls"):
        broken = Client(raise_request_exception=False)
        trail.error_pages["500"] = read(ok(broken.get("/broken/", query), 500))
        trail.error_pages["500 (POST)"] = read(ok(broken.post("/broken/", query), 500))


# --- Where to look afterwards --------------------------------------------------------------------------------


def files_under(root: Path, *, skip: tuple[Path, ...] = ()) -> Iterator[tuple[Path, str]]:
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        if path.is_file() and not any(path.is_relative_to(s) for s in skip):
            yield path, path.read_bytes().decode("utf-8", errors="replace")


def cache_contents() -> Iterator[tuple[str, str]]:
    """Every key and value of each configured cache (locmem: its store, unpickled; file-based: its files)."""
    import pickle

    for alias in settings.CACHES:
        cache = caches[alias]
        store = getattr(cache, "_cache", None)
        if store is not None:
            for key, value in list(store.items()):
                # The test's own cache, written by the site during this test: safe to unpickle.
                yield f"cache {alias!r} key {key!r}", f"{key} {pickle.loads(value)!r}"  # noqa: S301
        elif hasattr(cache, "_dir"):
            for path, text in files_under(Path(cache._dir)):
                yield f"cache {alias!r} file {path}", text


def emails_queued() -> Iterator[tuple[str, list[str], str | None, str]]:
    """Each outbox email as queued, and as delivered (the whole message: headers, every part, attachments).

    Yields where it was found, its recipients, its kind (None once delivered) and its text.
    """
    for email in Email.objects.order_by("pk"):
        attachments = [base64.b64decode(a["content"]).decode(errors="replace") for a in email.attachments]
        text = "\n".join([email.kind, email.reference, email.subject, email.body, *attachments])
        yield f"outbox email {email.kind} #{email.pk}", [email.to], email.kind, text
    for n, message in enumerate(mail.outbox):
        raw = message.message().as_bytes()
        parts = [raw.decode(errors="replace")]
        for part in message_from_bytes(raw).walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                parts.append(payload.decode(errors="replace"))
        yield f"delivered email #{n} {message.subject!r}", list(message.to), None, "\n".join(parts)


@pytest.fixture
def staff(schedule: Schedule, bob: User, charlie: User, alice: User) -> dict[str, User]:
    call_command("load_consent_documents", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert ConsentDocument.objects.exists()
    return {
        "bob": bob,
        "charlie": charlie,
        "alice": alice,
        "rhea": User.objects.create_user("rhea", password="rhea-password-1", role=Role.RESEARCHER, is_staff=True),
        "ada": User.objects.create_user("ada", password="ada-password-1", role=Role.ADMIN, is_staff=True),
    }


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own VAR_DIR and temporary directory (so that the search reads what it wrote, and no more)."""
    settings.VAR_DIR = tmp_path / "var"
    settings.EMAIL_FILE_PATH = settings.VAR_DIR / "mail"
    # One person going through every flow asks more pages than a limit lets one address ask in an hour.
    settings.RATE_LIMITS = {group: "1000/h" for group in settings.RATE_LIMITS}
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    return Path(settings.VAR_DIR)


def test_the_canary_patients_details_appear_nowhere_but_where_they_are_meant_to(
    schedule: Schedule, staff: dict[str, User], logs: Keep, var_dir: Path
) -> None:
    trail = Trail()

    book_online(trail)
    call_back_and_get_in_touch(trail, schedule)
    fill_intake(trail)
    patient = Patient.objects.get(email=EMAIL)
    front_desk_and_review(trail, patient, staff["alice"], staff["bob"])
    episode = assess_and_consent(trail, patient, schedule, staff["bob"])
    baseline(trail, episode)
    procedure(trail, episode, staff["bob"], staff["charlie"])
    consent_at_home(trail, patient, schedule, staff["bob"])
    six_weeks_by_phone(trail, episode, staff["alice"])
    export(trail, staff["rhea"], staff["ada"])
    error_pages(trail)
    run_ready_tasks()

    # She went through every flow: the database holds her, her words and her answers.
    patient.refresh_from_db()
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.phone) == (FIRST, LAST, BORN, PHONE)
    assert CallbackRequest.objects.get(email=EMAIL).preferred_times == f"Mornings. {MESSAGE}"
    assert Inquiry.objects.get(email=EMAIL).message == "Is there parking at the Encino office?"
    assert Intake.objects.get(patient=patient).answers["goals"]["own_words"] == MESSAGE
    submitted = Response.objects.filter(follow_up__episode=episode, status=Response.Status.SUBMITTED)
    assert sorted(submitted.values_list("follow_up__timepoint", "instrument")) == sorted(
        (timepoint, code)
        for timepoint in (Timepoint.BASELINE, Timepoint.WEEK_6)
        for code in services.instruments_for(episode, timepoint)
    )

    assert patient.mrn  # given when her chart was made
    canaries = identifiers(patient.mrn)
    leaks: list[str] = []
    for n, line in enumerate(logs.lines):
        leaks += found_in(line, where=f"log record #{n} ({line[:60]!r})", canaries=canaries)
    # The handler heard the site: the 404 and the 500 (its traceback), at least.
    assert [line.split(" ", 3)[:3] for line in logs.lines if " django.request " in line] == [
        ["WARNING", "django.request", "Not"],
        ["ERROR", "django.request", "Internal"],
        ["ERROR", "django.request", "Internal"],
    ]
    for url in trail.asked:
        leaks += found_in(url, where=f"URL {url!r}", canaries=canaries)
    # Her calendar file, the procedure's PDF, the two CSVs and each FHIR file came with a file name: none names her.
    downloads = [h.split(": ", 1)[0] for h in trail.headers if ": Content-Disposition: " in h]
    assert sorted(path.rsplit("/", 1)[-1] for path in downloads) == sorted(
        ["calendar.ics", "record.pdf", "deidentified.csv", "identified.csv"]
        + [f"{resource}.ndjson" for resource in BulkExport.objects.get().counts]
    )
    for header in trail.headers:
        leaks += found_in(header, where=f"response header {header[:120]!r}", canaries=canaries)
    for name, html in trail.error_pages.items():
        leaks += found_in(html, where=f"the {name} page", canaries=canaries)

    # Her own emails go to her address and may greet her by first name; nothing else of hers, nothing about health.
    own_names: set[str] = set()
    emails = list(emails_queued())
    for where, to, _kind, text in emails:
        to_her = to == [EMAIL]
        allowed = frozenset({"first name", "email", "email's local part"}) if to_her else frozenset()
        leaks += found_in(text, where=where, canaries=canaries, allowed=allowed)
        if to_her and FIRST in text:
            own_names.add(where)
    kinds = sorted({kind for _where, _to, kind, _text in emails if kind is not None})
    assert kinds == ["appointment.booked", "consent.link", "inquiry.new", "questionnaire_invitation"]

    # The exports that exist to hold her do; the de-identified one holds nothing of hers.
    leaks += found_in(trail.exports["de-identified CSV"], where="the de-identified CSV", canaries=canaries)
    assert FIRST in trail.exports["identified CSV"] and canaries["MRN"] in trail.exports["identified CSV"]
    assert FIRST in trail.exports["FHIR Patient"] and BORN.isoformat() in trail.exports["FHIR Patient"]

    # Files: the static files, media, this test's VAR_DIR (mail, exports, anything else) and temporary directory,
    # except the bulk export's files (they are the FHIR export above, meant to hold her).
    bulk_files = var_dir / "exports" / str(BulkExport.objects.get().uuid)
    assert sorted(path.stem for path in bulk_files.glob("*.ndjson")) == sorted(BulkExport.objects.get().counts)
    roots = [Path(settings.STATIC_ROOT), var_dir, Path(tempfile.gettempdir())]
    if settings.MEDIA_ROOT:
        roots.append(Path(settings.MEDIA_ROOT))
    scanned = 0
    for root in roots:
        for path, text in files_under(root, skip=(bulk_files,)):
            scanned += 1
            leaks += found_in(text, where=f"file {path}", canaries=canaries)
    assert scanned > 100  # STATIC_ROOT alone has more: collectstatic ran
    entries = list(cache_contents())
    assert len(entries) > 10  # the page cache, the rate limits' counters, the sessions if cached
    for where, text in entries:
        leaks += found_in(text, where=where, canaries=canaries)

    assert leaks == [], "\n".join(leaks)
    assert own_names == set(), own_names
