"""Load the demo practice: two example offices, pages, and staff logins. Idempotent."""

from datetime import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from lib.markdown import split_front
from website.models import Office, OfficeHours, Practice, SocialLink, TherapyPage

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"

DEMO_PASSWORD = "demo-practice-2026"  # noqa: S105  (the demo only; printed by make run)
DEMO_AUTHENTICATOR = "Demo authenticator"
# One sign-in for every role (password DEMO_PASSWORD); `admin` is the one superuser.
DEMO_STAFF = [
    ("frontdesk", "Fran", "Desk", Role.FRONT_DESK, False),
    ("drlee", "Dana", "Lee", Role.PHYSICIAN, False),
    ("pkim", "Pat", "Kim", Role.PHYSICIAN_ASSISTANT, False),
    ("tech", "Toni", "Tech", Role.TECHNICIAN, False),
    ("manager", "Morgan", "Reyes", Role.MANAGER, False),
    ("research", "Remy", "Search", Role.RESEARCHER, False),
    ("admin", "Alex", "Admin", Role.ADMIN, True),
]

LEGACY_LEGAL_NAME = "RegenClinic Orthopedics (example)"

# California's notice (Business and Professions Code section 684): the statute gives the English words,
# so Spanish pages show them as they are, then this translation, labelled as one.
REGULATORY_NOTICE_EN = (
    "THIS NOTICE MUST BE PROVIDED TO YOU UNDER CALIFORNIA LAW. This health care practitioner performs "
    "one or more stem cell therapies that have not yet been approved by the United States Food and Drug "
    "Administration. You are encouraged to consult with your primary care physician prior to undergoing "
    "a stem cell therapy."
)
REGULATORY_NOTICE_ES = (
    "LA LEY DE CALIFORNIA EXIGE QUE SE LE ENTREGUE ESTE AVISO. Este profesional de la salud realiza una o "
    "más terapias con células madre que todavía no han sido aprobadas por la Administración de Alimentos y "
    "Medicamentos de los Estados Unidos (FDA). Le recomendamos que consulte con su médico de atención "
    "primaria antes de recibir una terapia con células madre."
)


class Command(BaseCommand):
    help = "Create the demo practice (example offices, pages, staff). Leaves existing records alone."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-staff", action="store_true", help="Do not create the demo staff logins.")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.first() or Practice.objects.create(
            name="RegenClinic",
            legal_name="RegenClinic Orthopedics",
            notification_email="frontdesk@regenclinic.example",
            regulatory_notice_enabled=True,
            regulatory_notice_en=REGULATORY_NOTICE_EN,
            regulatory_notice_es=REGULATORY_NOTICE_ES,
            is_example=True,
        )
        la = self._office(
            slug="los-angeles",
            name="Los Angeles",
            name_es="Los Ángeles",
            street="100 Example Boulevard",
            suite="Suite 200",
            city="Los Angeles",
            postal_code="90048",
            phone="(310) 555-0100",
            email="la@regenclinic.example",
            map_url="https://www.openstreetmap.org/search?query=Los%20Angeles%2C%20CA%2090048",
            parking_en="Parking in the building garage; we validate your ticket.",
            parking_es="Estacionamiento en el garaje del edificio; validamos su boleto.",
            order=1,
        )
        encino = self._office(
            slug="encino",
            name="Encino",
            street="200 Example Avenue",
            suite="Suite 300",
            city="Encino",
            postal_code="91436",
            phone="(818) 555-0100",
            email="encino@regenclinic.example",
            map_url="https://www.openstreetmap.org/search?query=Encino%2C%20CA%2091436",
            parking_en="Free parking behind the building.",
            parking_es="Estacionamiento gratuito detrás del edificio.",
            order=2,
        )
        for office, days in ((la, range(0, 5)), (encino, range(0, 4))):
            if not office.hours.exists():
                OfficeHours.objects.bulk_create(
                    OfficeHours(office=office, weekday=d, opens=time(8, 30), closes=time(17)) for d in days
                )
        self._drop_example_suffixes()
        for order, (network, url) in enumerate(
            [
                ("facebook", "https://www.facebook.com/regenclinic.example"),
                ("instagram", "https://www.instagram.com/regenclinic.example"),
                ("youtube", "https://www.youtube.com/@regenclinic.example"),
            ]
        ):
            SocialLink.objects.get_or_create(network=network, defaults={"url": url, "order": order})
        pages = self._pages()
        staff = [] if options["no_staff"] else self._staff()
        self.stdout.write(
            f"load_demo_practice: {practice.name}, offices {la.name} and {encino.name}, "
            f"{pages} page(s) added, {len(staff)} staff login(s) added"
        )

    def _drop_example_suffixes(self) -> None:
        """Earlier demos wrote "(example)" into names; the banner on every page says so instead."""
        Practice.objects.filter(legal_name=LEGACY_LEGAL_NAME).update(legal_name="RegenClinic Orthopedics")

    def _office(self, *, slug: str, **fields: Any) -> Office:
        office, _ = Office.objects.get_or_create(slug=slug, defaults=fields)
        return office

    def _pages(self) -> int:
        added = 0
        for slug in TherapyPage.Slug.values:
            for language in TherapyPage.Language.values:
                path = CONTENT_DIR / f"{slug}.{language}.md"
                if TherapyPage.objects.filter(slug=slug, language=language).exists() or not path.exists():
                    continue
                title, summary, body = split_front(path.read_text(encoding="utf-8"))
                TherapyPage.objects.create(slug=slug, language=language, title=title, summary=summary, body=body)
                added += 1
        return added

    def _staff(self) -> list[User]:
        added = []
        for username, first, last, role, superuser in DEMO_STAFF:
            if User.objects.filter(username=username).exists():
                continue
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                role=role,
                email=f"{username}@regenclinic.example",
                is_staff=True,
                is_superuser=superuser,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            added.append(user)
        # The second step of sign-in: each demo account has an authenticator already, whose code
        # `manage.py demo_code USERNAME` prints (for demo accounts only).
        for user in User.objects.filter(username__in=[row[0] for row in DEMO_STAFF]):
            if user.check_password(DEMO_PASSWORD) and not TOTPDevice.objects.filter(user=user).exists():
                TOTPDevice.objects.create(user=user, name=DEMO_AUTHENTICATOR, confirmed=True)
        return added
