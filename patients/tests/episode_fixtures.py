"""Fixtures and helpers for the candidacy, episode and consent tests (imported by those test modules).

Built on the scheduling `schedule` fixture: bob is the physician ("Dr. Bob Example"),
rosa and luis two patients. `documents` publishes the demo consent v1 in both languages.
"""

import base64
import html
import io
import os
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from patients.episodes import AssessmentDetails, assessment_record
from patients.models import CandidacyAssessment, ConsentDocument, Episode, Patient
from scheduling.tests.conftest import Schedule


def png(*, width: int = 600, height: int = 200, ink: bool = True, strokes: int = 3) -> str:
    """A signature as the pad sends it: a data: URL of a transparent PNG with (or without) dark strokes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if ink:
        draw = ImageDraw.Draw(image)
        for n in range(strokes):
            draw.line([(40 + n * 60, 150), (120 + n * 80, 40), (200 + n * 90, 160)], fill=(17, 17, 17, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def text(response: Any) -> str:
    """The page's main content as a person reads it: no tags, entities decoded, whitespace collapsed."""
    page = response.content.decode()
    main = page[page.index('<main id="main"') : page.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def audit_rows(**filters: Any) -> list[tuple[Any, ...]]:
    """The audit log's rows (all, or those `filters` name), oldest first; the tests' own sign-ins left out."""
    return list(
        AuditEvent.objects.filter(**filters)
        .exclude(action=AuditEvent.Action.SIGN_IN)
        .order_by("seq")
        .values_list("actor__username", "role", "action", "object_type", "object_ref", "patient_id", "outcome")
    )


def audit_lock_queries() -> int:
    """The queries one audit row adds beyond its read and insert: PostgreSQL's advisory lock on the chain."""
    from django.db import connection

    return 1 if connection.vendor == "postgresql" else 0


def client_for(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def open_episode(s: Schedule, patient: Patient | None = None, *, by: User | None = None, **changes: Any) -> Episode:
    """An assessment decided "candidate" for right knee osteoarthritis, and the episode it opened."""
    fields: dict[str, Any] = {
        "indication": "osteoarthritis",
        "site": "knee",
        "side": "right",
        "decision": CandidacyAssessment.Decision.CANDIDATE,
        "reason": "Mild to moderate osteoarthritis after a year of physical therapy.",
        "kl_grade": 2,
        "failed_care": ("physical_therapy",),
        "physician": s.doctor,
    }
    fields.update(changes)
    physician = by or s.doctor.user
    assert physician is not None
    assessment = assessment_record(patient=patient or s.rosa, details=AssessmentDetails(**fields), by=physician)
    assert assessment.episode is not None
    return assessment.episode


@pytest.fixture
def documents(schedule: Schedule) -> dict[str, ConsentDocument]:
    call_command("load_consent_documents", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {d.language: d for d in ConsentDocument.objects.all()}


@pytest.fixture
def episode(schedule: Schedule, documents: dict[str, ConsentDocument]) -> Episode:
    return open_episode(schedule)


@pytest.fixture
def pat(db: Any) -> User:
    """A physician assistant."""
    return User.objects.create_user("pat", password="pat-password-12", role=Role.PHYSICIAN_ASSISTANT, is_staff=True)


@pytest.fixture
def manager(db: Any) -> User:
    return User.objects.create_user("maria", password="maria-password-12", role=Role.MANAGER, is_staff=True)
