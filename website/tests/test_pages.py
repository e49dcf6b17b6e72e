"""Public pages: content from the database, both languages, the notice, the self-check."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from website.models import Office, Practice, TherapyPage

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = ["/", "/stem-cell-therapy/", "/prp/", "/offices/los-angeles/", "/offices/encino/", "/contact/"]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
@pytest.mark.parametrize("prefix", ["", "/es"])
def test_every_public_page_answers_in_both_languages(client: Client, practice: Any, path: str, prefix: str) -> None:
    response = client.get(prefix + path)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<html lang="{prefix.strip("/") or "en"}">' in body
    assert 'class="skip-link" href="#main"' in body
    assert 'id="a11y-toggle"' in body


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_pages_name_no_other_origin_in_their_assets(client: Client, practice: Any, path: str) -> None:
    body = client.get(path).content.decode()
    for marker in ('src="http', "src='http", 'href="//', "@import", 'rel="stylesheet" href="http'):
        assert marker not in body


def test_the_security_headers_are_sent(client: Client, practice: Any) -> None:
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_therapy_page_has_every_section(client: Client, practice: Any) -> None:
    body = client.get("/stem-cell-therapy/").content.decode()
    for anchor in (
        "what-are-stem-cells",
        "why-they-matter",
        "conditions",
        "candidates",
        "how-it-works",
        "what-to-expect",
        "risks",
        "book",
    ):
        assert f'<h2 id="{anchor}">' in body
    assert 'alt="Six steps: 1, a consultation' in body
    # The drawing sits with the steps, between "how" and "what to expect".
    assert body.index('<h2 id="how-it-works">') < body.index("therapy-steps") < body.index('<h2 id="what-to-expect">')
    assert "Book a consultation in Los Angeles" in body and "Book a consultation in Encino" in body


def test_the_regulatory_notice_shows_only_when_turned_on(client: Client, practice: Practice) -> None:
    assert "Notice to consumers" in client.get("/stem-cell-therapy/").content.decode()
    assert "FDA" in client.get("/es/prp/").content.decode()
    practice.regulatory_notice_enabled = False
    practice.save()
    assert "Notice to consumers" not in client.get("/stem-cell-therapy/").content.decode()


def test_staff_edits_to_a_page_appear_and_keep_a_version(client: Client, practice: Any) -> None:
    manager = User.objects.create_superuser("mia", password="mia-password-1")
    client.force_login(manager)
    page = TherapyPage.objects.get(slug="prp", language="en")
    response = client.post(
        f"/admin/website/therapypage/{page.pk}/change/",
        {
            "slug": "prp",
            "language": "en",
            "title": "PRP, explained",
            "summary": page.summary,
            "body": page.body + "\n\n## Extra {#extra}\n\nNew words.<script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    body = client.get("/prp/").content.decode()
    assert "PRP, explained" in body and '<h2 id="extra">' in body
    assert "<script>alert(1)</script>" not in body
    versions = list(page.history.order_by("history_date").values_list("title", "history_user__username"))
    assert versions == [(page.title, None), ("PRP, explained", "mia")]


def test_an_office_page_comes_from_the_data(client: Client, practice: Any) -> None:
    encino = Office.objects.get(slug="encino")
    encino.phone = "(818) 555-0142"
    encino.save()
    body = client.get("/offices/encino/").content.decode()
    assert "(818) 555-0142" in body and 'href="tel:8185550142"' in body
    assert "Monday" in body and "Friday" not in body.split("Opening hours")[1].split("</table>")[0]


def test_an_unknown_office_is_a_404(client: Client, practice: Any) -> None:
    assert client.get("/offices/pasadena/").status_code == 404


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (
            {"area": "knee", "duration": "over_3_months", "tried": ["physical_therapy"], "avoid_surgery": "yes"},
            "These are common reasons people ask about this therapy",
        ),
        (
            {
                "area": "knee",
                "duration": "over_3_months",
                "tried": ["rest"],
                "avoid_surgery": "yes",
                "red_flags": ["fever"],
            },
            "In an emergency, call 911.",
        ),
        (
            {"area": "hip", "duration": "under_6_weeks", "avoid_surgery": "unsure"},
            "Many new strains and sprains get better with time",
        ),
        ({"area": "back", "duration": "over_3_months", "avoid_surgery": "no"}, "Your answers do not point one way."),
    ],
)
def test_the_self_check_explains_without_storing(
    client: Client, practice: Any, answers: dict[str, Any], expected: str
) -> None:
    tables_before = {m: m.objects.count() for m in (TherapyPage, Office)}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/stem-cell-therapy/", answers)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert "This is general information, not a diagnosis." in response.content.decode()
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert {m: m.objects.count() for m in (TherapyPage, Office)} == tables_before


def test_the_self_check_asks_again_for_missing_answers(client: Client, practice: Any) -> None:
    response = client.post("/stem-cell-therapy/", {"area": "knee"})
    form = response.context["selfcheck_form"]
    assert form.errors == {"duration": ["Please choose one."], "avoid_surgery": ["Please choose one."]}
    assert '<input type="radio" name="area" value="knee" id="id_area_0" required checked>' in (
        response.content.decode()
    )


@pytest.mark.parametrize("path", ["/", "/stem-cell-therapy/", "/offices/encino/"])
def test_public_pages_use_no_database_once_warm(client: Client, practice: Any, path: str) -> None:
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    assert len(queries) == 0


def test_healthz_is_bare(client: Client) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
