"""E-consent: versioned documents, signatures bound to the exact text signed, PDFs, verification, withdrawal.

`valid_consent` is what the procedure record asks before it may start.
"""

import hashlib

from patients.models import ConsentDocument, ConsentSignature, Episode


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def current_document(language: str) -> ConsentDocument | None:
    """The latest published version of the consent in `language`."""
    return ConsentDocument.objects.filter(language=language).order_by("-version").first()


def valid_consent(episode: Episode) -> ConsentSignature | None:
    """The episode's signed consent that still holds: not withdrawn, on the current version of its
    language, and whose stored text and PDF still match their hashes. None if there is none."""
    for signature in episode.consents.select_related("document").filter(withdrawn_at__isnull=True):
        current = current_document(signature.document.language)
        if current is None or current.pk != signature.document_id:
            continue
        if sha256(signature.rendered_text) == signature.text_sha256 and sha256(bytes(signature.pdf)) == (
            signature.pdf_sha256
        ):
            return signature
    return None
