"""Public pages: content from the database, both languages, the notice, the self-check."""

import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.testing import sign_in
from website.models import Office, Practice, TherapyPage

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = ["/", "/stem-cell-therapy/", "/prp/", "/offices/los-angeles/", "/offices/encino/", "/contact/"]
CONTENT = Path(__file__).resolve().parents[1] / "content"
PAGES = [
    ("stem-cell-therapy", "en", "/stem-cell-therapy/"),
    ("stem-cell-therapy", "es", "/es/stem-cell-therapy/"),
    ("prp", "en", "/prp/"),
    ("prp", "es", "/es/prp/"),
]
# Facts a reader must find, written here rather than read from the files, so that a file that
# loses one fails.
KEY_FACTS = {
    ("stem-cell-therapy", "en"): ["6 to 8 weeks", "Nothing comes from a donor.", "This is not a bone marrow biopsy."],
    ("stem-cell-therapy", "es"): [
        "entre 6 y 8 semanas",
        "Nada proviene de donantes.",
        "Esto no es una biopsia de médula ósea",
    ],
    ("prp", "en"): ["a small sample of your own blood", "nothing comes from a donor."],
    ("prp", "es"): ["una pequeña muestra de su propia sangre", "nada proviene de donantes."],
}


def markdown_outline(slug: str, language: str) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """Title, {anchor: heading} and {anchor: list items} of a content file, read line by line.

    Deliberately not lib.markdown: the test reads the file its own way, then looks for it on the page.
    """
    lines = (CONTENT / f"{slug}.{language}.md").read_text(encoding="utf-8").splitlines()
    title = lines[0].removeprefix("# ").strip()
    headings: dict[str, str] = {}
    items: dict[str, list[str]] = {}
    anchor = ""
    for line in lines[1:]:
        heading = re.fullmatch(r"## (.+?) \{#([\w-]+)\}", line)
        if heading:
            anchor = heading.group(2)
            headings[anchor] = heading.group(1)
            items[anchor] = []
        elif anchor and re.match(r"(- |\d+\. )", line):
            items[anchor].append(re.sub(r"^(- |\d+\. )", "", line))
    return title, headings, items


def plain(markup: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


@pytest.mark.parametrize(("slug", "language", "path"), PAGES)
def test_every_heading_and_list_of_a_content_file_is_on_its_page(
    client: Client, practice: Any, slug: str, language: str, path: str
) -> None:
    title, headings, items = markdown_outline(slug, language)
    body = client.get(path).content.decode()
    assert f"<h1>{html.escape(title, quote=False)}</h1>" in body
    shown = {anchor: plain(text) for anchor, text in re.findall(r'<h2 id="([\w-]+)">(.*?)</h2>', body)}
    assert {anchor: shown.get(anchor) for anchor in headings} == headings
    page_items = [plain(li) for li in re.findall(r"<li>(.*?)</li>", body, flags=re.S)]
    for anchor, expected in items.items():
        for item in expected:
            assert plain(item.replace("**", "")) in page_items, (anchor, item)
    for fact in KEY_FACTS[(slug, language)]:
        assert fact in plain(body), fact


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_therapy_page_lists_the_nine_conditions_and_the_six_steps(language: str) -> None:
    _title, headings, items = markdown_outline("stem-cell-therapy", language)
    assert list(headings) == [
        "what-are-stem-cells",
        "why-they-matter",
        "conditions",
        "candidates",
        "how-it-works",
        "what-to-expect",
        "risks",
        "book",
    ]
    assert len(items["conditions"]) == 9
    assert len(items["how-it-works"]) == 6
    # Each step starts with its name in bold, in both languages alike.
    assert all(re.match(r"\*\*[^*]+\.\*\* ", step) for step in items["how-it-works"])


def test_both_languages_of_a_page_have_the_same_sections() -> None:
    for slug in ("stem-cell-therapy", "prp"):
        english, spanish = (markdown_outline(slug, language) for language in ("en", "es"))
        assert list(english[1]) == list(spanish[1]), slug
        assert {a: len(v) for a, v in english[2].items()} == {a: len(v) for a, v in spanish[2].items()}, slug


@pytest.mark.parametrize("path", PUBLIC_PATHS)
@pytest.mark.parametrize("prefix", ["", "/es"])
def test_every_public_page_answers_in_both_languages(client: Client, practice: Any, path: str, prefix: str) -> None:
    response = client.get(prefix + path)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<html lang="{prefix.strip("/") or "en"}">' in body
    assert 'class="skip-link" href="#main"' in body
    assert '<summary class="a11y-toggle" id="a11y-toggle">' in body


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


@pytest.mark.parametrize("path", ["/es/", "/es/stem-cell-therapy/", "/es/prp/"])
def test_spanish_pages_show_the_statutory_english_notice_then_its_translation(
    client: Client, practice: Practice, path: str
) -> None:
    body = client.get(path).content.decode()
    notice = body.split('<aside class="notice"')[1].split("</aside>")[0]
    english = f'<div lang="en"><p>{practice.regulatory_notice_en}</p></div>'
    label = "<strong>Traducción al español:</strong>"
    spanish = f"<p>{practice.regulatory_notice_es}</p>"
    assert english in notice and label in notice and spanish in notice
    assert notice.index(english) < notice.index(label) < notice.index(spanish)


def test_english_pages_show_the_notice_once_in_english(client: Client, practice: Practice) -> None:
    notice = client.get("/prp/").content.decode().split('<aside class="notice"')[1].split("</aside>")[0]
    assert f"<p>{practice.regulatory_notice_en}</p>" in notice
    assert practice.regulatory_notice_es not in notice and "translation" not in notice.lower()


def test_the_demo_names_carry_no_example_label(client: Client, practice: Practice) -> None:
    from django.core.management import call_command

    from scheduling.models import Provider

    call_command("load_demo_schedule", stdout=io.StringIO())
    assert (practice.legal_name, list(Provider.objects.order_by("name").values_list("name", flat=True))) == (
        "RegenClinic Orthopedics",
        ["Dr. Dana Lee", "Pat Kim, PA-C"],
    )
    office = client.get("/offices/encino/").content.decode()
    assert "<li>Dr. Dana Lee, MD</li>" in office and "<li>Pat Kim, PA-C</li>" in office
    for path in ("/", "/es/", "/offices/encino/"):
        assert "(example)" not in client.get(path).content.decode()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/offices/los-angeles/", "8:30 a.m. \u2013 5 p.m."),
        ("/es/offices/los-angeles/", "8:30\u00a0a.\u00a0m. \u2013 5:00\u00a0p.\u00a0m."),
    ],
)
def test_office_hours_use_the_12_hour_clock_in_both_languages(
    client: Client, practice: Any, path: str, expected: str
) -> None:
    hours = client.get(path).content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert hours.count(f"<td>{expected}</td>") == 5


def test_spanish_pages_name_the_office_los_angeles_with_its_accent(client: Client, practice: Any) -> None:
    for path in ("/es/", "/es/prp/", "/es/offices/los-angeles/"):
        main_and_menus = client.get(path).content.decode().split("</head>")[1]
        # The postal address keeps the city as the post office writes it.
        shown = main_and_menus.replace("Los Angeles, CA 90048", "")
        assert "Los Angeles" not in shown and "Los Ángeles" in shown, path


def test_booking_is_one_tap_from_the_menu_and_the_home_page(client: Client, practice: Any) -> None:
    for prefix, label in (("", "Book a consultation"), ("/es", "Reservar una consulta")):
        for path in PUBLIC_PATHS:
            nav = client.get(prefix + path).content.decode().split('<nav class="main-nav"')[1].split("</nav>")[0]
            assert f'<li class="nav-book"><a href="{prefix}/book/">{label}</a></li>' in nav, prefix + path
        hero = client.get(prefix + "/").content.decode().split('class="hero"')[1].split("</section>")[0]
        assert f'<a class="button" href="{prefix}/book/">{label}</a>' in hero


@pytest.mark.parametrize("prefix", ["", "/es"])
def test_the_language_alternates_are_absolute_with_an_x_default(
    client: Client, practice: Any, settings: Any, prefix: str
) -> None:
    settings.SITE_URL = "https://clinic.example"
    head = client.get(prefix + "/prp/").content.decode().split("</head>")[0]
    assert re.findall(r'<link rel="alternate" hreflang="([\w-]+)" href="([^"]+)">', head) == [
        ("en", "https://clinic.example/prp/"),
        ("x-default", "https://clinic.example/prp/"),
        ("es", "https://clinic.example/es/prp/"),
    ]


def test_staff_edits_to_a_page_appear_and_keep_a_version(client: Client, practice: Any) -> None:
    manager = User.objects.create_superuser("mia", password="mia-password-1")
    sign_in(client, manager)
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
