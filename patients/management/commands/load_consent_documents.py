"""`manage.py load_consent_documents`: publish the demo's consent (v1, English and Spanish) from patients/content/.

Idempotent: a language that already has a published version is left as it is (staff
may have written newer ones; publishing is theirs to do).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from lib.markdown import split_front
from patients.consent import current_document, document_publish
from patients.models import ConsentDocument

CONTENT = Path(__file__).resolve().parents[2] / "content"


def demo_document(language: str) -> tuple[str, str]:
    """(title, body) of the demo consent in `language`, from patients/content/consent.<language>.md."""
    text = (CONTENT / f"consent.{language}.md").read_text(encoding="utf-8")
    title, lead, rest = split_front(text)
    return title, f"{lead}\n\n{rest}"


class Command(BaseCommand):
    help = "Publish version 1 of the demo consent in English and Spanish, unless a version is already published."

    def handle(self, *args: Any, **options: Any) -> None:
        done = []
        for language in ConsentDocument.Language.values:
            current = current_document(language)
            if current is not None:
                done.append(f"{language} v{current.version} kept")
                continue
            title, body = demo_document(language)
            document = document_publish(
                language=language,
                title=title,
                body=body,
                include_regulatory_notice=True,
                requires_witness=False,
                by=None,
            )
            done.append(f"{language} v{document.version} published")
        self.stdout.write("load_consent_documents: " + ", ".join(done))
