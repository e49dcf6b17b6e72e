"""E-consent: versioned documents, signatures bound to the exact text signed, PDFs, verification, withdrawal.

`valid_consent` is what the procedure record asks before it may start.

**Documents.** Staff publish the consent per language (`document_publish`); each
publication is a new version (n+1) and a published row is never edited, so every
signature keeps pointing at the text it was made on.

**The text signed** is one HTML fragment, built by `consent_text` from: the document
(its title and its Markdown body through `lib.markdown.render_markdown`, the same
sanitiser the public pages use), the practice's regulatory notice when the document
includes it and the practice turns it on, the statement of what the signature means
("I consent to ... for my left knee (Osteoarthritis)."), and a line naming the version
and the episode's public id. HTML rather than plain text because that fragment is
byte for byte what the signing page inserts and what the PDF lays out: the SHA-256 is
over exactly what the patient saw. Each part is a `<section data-part=...>` (a tag the
sanitiser never lets through from the body), so `consent_verify` can tell which part
differs.

**Signing** (`consent_sign`) refuses a document that is not the current version of its
language, and a text whose hash differs from the one the page showed (`shown_sha256`):
the patient then sees the new text and signs again; a signature never moves to new
text. It stores the text, its hash, a PDF (WeasyPrint) of what was signed with the
signature, name and time, and the PDF's own hash; the episode becomes "consented".

**Verification** (`consent_verify`) recomputes both hashes and renders the document row
again, naming each difference. **Withdrawal** (`consent_withdraw`) is recorded on the
signature, never a deletion.
"""

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, formats, timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.audit import audit_record
from accounts.links import VALID_FOR
from accounts.models import AuditEvent, PatientLink, User
from lib.markdown import render_markdown
from patients.models import BodySite, ConsentDocument, ConsentSignature, Episode, Side

Method = ConsentSignature.Method
# Stored in `signature_png` when the patient signed by typing their name and ticking the box
# (no pointer, or no wish to draw): the PDF and the pages say so.
TYPED_SIGNATURE = "typed"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 300_000
# A drawn signature at least this many dark pixels, spread at least this wide: not a blank box, not a dot.
MIN_INK_PIXELS = 40
MIN_INK_WIDTH = 20
SIGNATURE_SIZE = ((60, 20), (4000, 2000))  # (min width, min height), (max width, max height)
LINK_EMAIL_KIND = "consent.link"
PART_RE = re.compile(r'<(?:section|p) class="consent-[a-z -]+" data-part="([a-z]+)">')


# --- Refusals ------------------------------------------------------------------------------------


class ConsentError(ValidationError):
    """A refusal whose message can be shown as is (next to `field` when it names one)."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__({field: [message]} if field else message)
        self.field = field


class ConsentOutdated(ConsentError):
    """The text shown is no longer the current one (a new version, a changed notice): read the new text, sign again."""

    def __init__(self, document: ConsentDocument | None) -> None:
        super().__init__(
            _(
                "The consent text changed while it was open (a new version was published). "
                "Please read it and sign again."
            )
        )
        self.document = document


# --- Documents -----------------------------------------------------------------------------------


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def current_document(language: str) -> ConsentDocument | None:
    """The latest published version of the consent in `language`."""
    return ConsentDocument.objects.filter(language=language).order_by("-version").first()


def current_versions() -> dict[str, int]:
    """The latest version of each language, in one query."""
    rows = ConsentDocument.objects.values("language").annotate(latest=Max("version")).order_by()
    return {row["language"]: row["latest"] for row in rows}


def document_for(language: str) -> ConsentDocument | None:
    """The current document in `language`, or in the other language when none is published in it."""
    return current_document(language) or ConsentDocument.objects.order_by("language", "-version").first()


def document_publish(
    *,
    language: str,
    title: str,
    body: str,
    include_regulatory_notice: bool,
    requires_witness: bool,
    by: User | None,
    request: Any = None,
    now: datetime | None = None,
) -> ConsentDocument:
    """Publish a new version (n+1) of the consent in `language`. Published versions are never changed."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = ConsentDocument.objects.filter(language=language).aggregate(v=Max("version"))["v"] or 0
                document = ConsentDocument(
                    language=language,
                    version=latest + 1,
                    title=title.strip(),
                    body=body.strip() + "\n",
                    include_regulatory_notice=include_regulatory_notice,
                    requires_witness=requires_witness,
                    published_at=now or timezone.now(),
                    published_by=by,
                )
                document.full_clean(validate_constraints=False)
                document.save(force_insert=True)
                audit_record(
                    actor=by,
                    action=AuditEvent.Action.CREATE,
                    object_type="consent_document",
                    object_ref=str(document.uuid),
                    request=request,
                )
                return document
        except IntegrityError:
            # Someone published the same language at the same moment: take the next number.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# --- The text signed -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentText:
    """The exact fragment a patient reads and signs, its SHA-256, and the statement of meaning in it."""

    document: ConsentDocument
    html: str
    sha256: str
    meaning: str


def regulatory_notice_for(document: ConsentDocument) -> str:
    """The practice's notice in the document's language, if the document includes it and the practice turns it on."""
    from website.models import Practice

    practice = Practice.objects.first()
    if not (document.include_regulatory_notice and practice and practice.regulatory_notice_enabled):
        return ""
    if document.language == ConsentDocument.Language.SPANISH and practice.regulatory_notice_es:
        return practice.regulatory_notice_es.strip()
    return practice.regulatory_notice_en.strip()


def _where(episode: Episode) -> str:
    """ "left knee", "lower back (lumbar spine)": the site and side as the statement of meaning says them."""
    if episode.site == BodySite.OTHER:
        return _("treated area")
    label = str(BodySite(episode.site).label)
    site = label[:1].lower() + label[1:]
    phrases = {
        Side.LEFT: _("left %(site)s"),
        Side.RIGHT: _("right %(site)s"),
        Side.BILATERAL: _("%(site)s, on both sides"),
        Side.MIDLINE: "%(site)s",
    }
    return phrases.get(Side(episode.side), "%(site)s") % {"site": site}


def meaning_for(*, episode: Episode, language: str) -> str:
    """What the signature means, in `language`, for this episode's indication, site and side."""
    from patients.models import Indication

    with translation.override(language):
        return _(
            "I consent to the bone-marrow concentrate procedure described above for my %(where)s (%(indication)s)."
        ) % {"where": _where(episode), "indication": str(Indication(episode.indication).label)}


def document_part(document: ConsentDocument) -> str:
    return (
        '<section class="consent-part" data-part="document">\n'
        f'<h2 class="consent-title">{escape(document.title)}</h2>\n'
        f"{render_markdown(document.body).strip()}\n"
        "</section>\n"
    )


def notice_part(notice: str, language: str) -> str:
    if not notice:
        return ""
    with translation.override(language):
        heading = _("Notice")
    return (
        '<section class="consent-part consent-notice" data-part="notice">\n'
        f"<h2>{escape(heading)}</h2>\n<p>{escape(notice)}</p>\n</section>\n"
    )


def meaning_part(meaning: str, language: str) -> str:
    with translation.override(language):
        heading = pgettext("the patient's consent", "What your signature means")
    return (
        '<section class="consent-part consent-meaning" data-part="meaning">\n'
        f"<h2>{escape(heading)}</h2>\n<p>{escape(meaning)}</p>\n</section>\n"
    )


def reference_part(document: ConsentDocument, episode: Episode) -> str:
    with translation.override(document.language):
        line = _("Consent form version %(version)s (%(language)s), treatment episode %(episode)s.") % {
            "version": document.version,
            "language": str(ConsentDocument.Language(document.language).label),
            "episode": episode.uuid,
        }
    return f'<p class="consent-ref" data-part="reference">{escape(line)}</p>\n'


def consent_text(*, episode: Episode, document: ConsentDocument) -> ConsentText:
    """The fragment the patient reads and signs (see the module's docstring), and its hash."""
    meaning = meaning_for(episode=episode, language=document.language)
    html = (
        document_part(document)
        + notice_part(regulatory_notice_for(document), document.language)
        + meaning_part(meaning, document.language)
        + reference_part(document, episode)
    )
    return ConsentText(document=document, html=html, sha256=sha256(html), meaning=meaning)


def text_parts(text: str) -> dict[str, str]:
    """The parts of a signed text by name, each from its opening tag to the next part (or the end)."""
    starts = [(match.start(), match.group(1)) for match in PART_RE.finditer(text)]
    if not starts or starts[0][0] != 0:
        return {}
    parts: dict[str, str] = {}
    for (start, name), (end, _next) in zip(starts, [*starts[1:], (len(text), "")], strict=True):
        if name in parts:
            return {}
        parts[name] = text[start:end]
    return parts


# --- The signature image -------------------------------------------------------------------------


def signature_png_bytes(value: str) -> bytes:
    """The PNG a signature pad sent (base64, with or without its data: prefix), checked; raises ConsentError."""
    from PIL import Image, UnidentifiedImageError

    data = (value or "").strip()
    data = data.removeprefix("data:image/png;base64,")
    if not data:
        raise ConsentError(
            _("Please sign in the box, or tick “I am signing by typing my name”."), field="signature_png"
        )
    if len(data) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise ConsentError(
            _("This signature image is too large. Please clear it and sign again."), field="signature_png"
        )
    invalid = ConsentError(
        _("This signature could not be read. Please clear it and sign again."), field="signature_png"
    )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not raw.startswith(PNG_MAGIC):
        raise invalid
    try:
        with Image.open(io.BytesIO(raw)) as image:
            (min_w, min_h), (max_w, max_h) = SIGNATURE_SIZE
            width, height = image.size
            if image.format != "PNG" or not (min_w <= width <= max_w and min_h <= height <= max_h):
                raise invalid
            image.load()
            flat = Image.new("RGBA", image.size, "white")
            flat.alpha_composite(image.convert("RGBA"))
            ink = flat.convert("L").point(lambda p: 255 if p < 160 else 0)
            box = ink.getbbox()
            inked = ink.histogram()[255]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise invalid from None
    if box is None or inked < MIN_INK_PIXELS or box[2] - box[0] < MIN_INK_WIDTH:
        raise ConsentError(
            _("The signature box is empty. Please sign in it, or tick “I am signing by typing my name”."),
            field="signature_png",
        )
    return raw


def is_typed(signature: ConsentSignature) -> bool:
    return signature.signature_png == TYPED_SIGNATURE


def signature_data_url(signature: ConsentSignature) -> str:
    """The drawn signature as a data: URL for an <img> (CSP allows data: images), or "" for a typed one."""
    return "" if is_typed(signature) else f"data:image/png;base64,{signature.signature_png}"


# --- Signing -------------------------------------------------------------------------------------


def practice_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def moment_label(moment: datetime, language: str) -> str:
    """e.g. "Tuesday, March 4, 2031, 2:30 p.m." in the practice's zone and `language`."""
    local = moment.astimezone(practice_zone())
    with translation.override(language):
        day = dateformat.format(local, pgettext("full date, PHP date format", "l, F j, Y"))
        return f"{day}, {formats.time_format(local, 'TIME_FORMAT')}"


def _refuse_if_outdated(*, episode: Episode, document: ConsentDocument, shown_sha256: str) -> ConsentText:
    current = current_document(document.language)
    if current is None or current.pk != document.pk:
        raise ConsentOutdated(current)
    text = consent_text(episode=episode, document=document)
    if shown_sha256 and shown_sha256 != text.sha256:
        raise ConsentOutdated(current)
    return text


def _refuse_if_signed(episode: Episode, document: ConsentDocument) -> None:
    if episode.status == Episode.Status.CLOSED:
        raise ConsentError(
            _("This treatment was closed, so this consent form can no longer be signed. Please call the office.")
        )
    if any(row.is_valid and row.signature.document_id == document.pk for row in consent_rows(episode=episode)):
        raise ConsentError(_("This consent is already signed. Nothing more to do."))


def consent_sign(
    *,
    episode: Episode,
    document: ConsentDocument,
    printed_name: str,
    signature_png: str,
    method: str,
    witness_name: str = "",
    witness: User | None = None,
    by: User | None = None,
    now: datetime | None = None,
    typed: bool = False,
    shown_sha256: str = "",
    request: Any = None,
) -> ConsentSignature:
    """Record the patient's signature on `document` for `episode`, bound to the exact text, with its PDF.

    `by` is the member of staff who recorded it in the office, None when the patient signed
    from a link. `typed`: the patient typed their name and ticked the box instead of
    drawing (then `signature_png` is ignored). `shown_sha256`, when given, is the hash of
    the text the page showed: a different current text is refused (`ConsentOutdated`), so
    nobody signs a text they did not see. Raises ConsentError (ValidationError) and writes
    nothing on any refusal.
    """
    now = now or timezone.now()
    text = _refuse_if_outdated(episode=episode, document=document, shown_sha256=shown_sha256)
    _refuse_if_signed(episode, document)
    errors: dict[str, list[Any]] = {}
    printed_name = " ".join((printed_name or "").split())
    if not printed_name:
        errors["printed_name"] = [_("Please print your full name.")]
    elif len(printed_name) > 160:
        errors["printed_name"] = [_("Please keep the name under 160 characters.")]
    stored_png = TYPED_SIGNATURE
    if not typed:
        try:
            stored_png = base64.b64encode(signature_png_bytes(signature_png)).decode()
        except ConsentError as error:
            errors["signature_png"] = error.messages
    witness_name = " ".join((witness_name or "").split())
    if document.requires_witness:
        if method == Method.REMOTE:
            raise ConsentError(_("This consent needs a witness: it can only be signed in the office."))
        if not witness_name:
            errors["witness_name"] = [_("This consent needs a witness: please give the witness's full name.")]
    elif not witness_name:
        witness = None
    if errors:
        raise ValidationError(errors)

    signature = ConsentSignature(
        episode=episode,
        document=document,
        printed_name=printed_name,
        signature_png=stored_png,
        meaning=text.meaning,
        rendered_text=text.html,
        text_sha256=text.sha256,
        method=method,
        signed_at=now,
        witness_name=witness_name,
        witness=witness,
        recorded_by=by,
    )
    # The PDF before the transaction: rendering takes a moment, and writers should not wait on it.
    signature.pdf = consent_pdf(signature)
    signature.pdf_sha256 = sha256(signature.pdf)
    signature.full_clean()
    with transaction.atomic():
        locked = Episode.objects.select_for_update().get(pk=episode.pk)
        # Again under the lock: a version published or a signature made a moment ago counts.
        _refuse_if_outdated(episode=locked, document=document, shown_sha256=text.sha256)
        _refuse_if_signed(locked, document)
        signature.save(force_insert=True)
        if locked.status in (Episode.Status.CANDIDATE, Episode.Status.WITHDRAWN):
            locked.status = Episode.Status.CONSENTED
            locked.updated_by = by
            locked._history_user = by  # type: ignore[attr-defined]
            locked.save(update_fields=["status", "updated_by", "updated_at"])
            episode.status = locked.status
        audit_record(
            actor=by,
            action=AuditEvent.Action.SIGN,
            object_type="consent",
            object_ref=str(signature.uuid),
            patient=episode.patient,
            request=request,
        )
    return signature


# --- The PDF -------------------------------------------------------------------------------------


def consent_pdf(signature: ConsentSignature) -> bytes:
    """The signed copy: the text as signed, the signature, the name and time, and the text's hash on every page."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    from website.models import Practice

    language = signature.document.language
    with translation.override(language):
        context = {
            "signature": signature,
            "practice": Practice.objects.first(),
            "signed_at": moment_label(signature.signed_at, language),
            "image": signature_data_url(signature),
            "typed": is_typed(signature),
            "method": str(Method(signature.method).label),
            "language": language,
        }
        html = render_to_string("patients/consent/pdf.html", context)
        # The footer of every page carries the text's hash: the stylesheet is a template too.
        stylesheet = render_to_string("patients/consent/pdf.css", context)
    # Nothing is fetched from anywhere: the signature image is a data: URL, the styles are passed in.
    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=html, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)])
    return pdf


# --- Verification --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    """Whether a signed consent is still exactly what was signed, and if not, each thing that differs."""

    valid: bool
    problems: list[str]


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def consent_verify(signature: ConsentSignature) -> Verification:
    """Recompute both hashes and the parts of the text that come from stored rows; name every difference.

    The problems name positions and versions, never the text itself (the command's
    output may end up in a log).
    """
    problems: list[str] = []
    text = signature.rendered_text
    computed = sha256(text)
    if computed != signature.text_sha256:
        problems.append(
            _("The signed text does not match its SHA-256 (stored %(stored)s, computed %(computed)s): it was changed.")
            % {"stored": signature.text_sha256[:12], "computed": computed[:12]}
        )
    computed_pdf = sha256(bytes(signature.pdf))
    if computed_pdf != signature.pdf_sha256:
        problems.append(
            _("The archived PDF does not match its SHA-256 (stored %(stored)s, computed %(computed)s): it was changed.")
            % {"stored": signature.pdf_sha256[:12], "computed": computed_pdf[:12]}
        )
    document = signature.document
    names = {"version": document.version, "language": document.language}
    parts = text_parts(text)
    order = [name for name in parts]
    if order not in (["document", "notice", "meaning", "reference"], ["document", "meaning", "reference"]):
        problems.append(_("The signed text is not made of the parts a consent has (document, meaning, reference)."))
        return Verification(valid=False, problems=problems)
    expected = document_part(document)
    if parts["document"] != expected:
        problems.append(
            _(
                "Consent document version %(version)s (%(language)s) no longer gives the text that was signed "
                "(first difference at character %(at)s of its part): its title or body changed after signing."
            )
            % {**names, "at": _first_difference(parts["document"], expected)}
        )
    if parts["meaning"] != meaning_part(signature.meaning, document.language):
        problems.append(_("The statement of what the signature means differs from the one recorded with it."))
    if parts["reference"] != reference_part(document, signature.episode):
        problems.append(
            _("The signed text names another version or episode than this signature's (version %(version)s).") % names
        )
    return Verification(valid=not problems, problems=problems)


# --- The consents of an episode, and their state -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """A signature and its state: "valid", "withdrawn", "older_version" or "altered" (its hashes no longer match)."""

    signature: ConsentSignature
    state: str
    current_version: int | None

    VALID = "valid"
    WITHDRAWN = "withdrawn"
    OLDER_VERSION = "older_version"
    ALTERED = "altered"

    @property
    def is_valid(self) -> bool:
        return self.state == self.VALID

    @property
    def label(self) -> str:
        return {
            self.VALID: _("Valid"),
            self.WITHDRAWN: _("Withdrawn"),
            self.OLDER_VERSION: _("On an older version (v%(version)s)") % {"version": self.signature.document.version},
            self.ALTERED: _("Altered: does not match its hashes"),
        }[self.state]


def _state(signature: ConsentSignature, versions: dict[str, int]) -> str:
    intact = sha256(signature.rendered_text) == signature.text_sha256 and sha256(bytes(signature.pdf)) == (
        signature.pdf_sha256
    )
    if not intact:
        return ConsentRow.ALTERED
    if signature.withdrawn_at is not None:
        return ConsentRow.WITHDRAWN
    if versions.get(signature.document.language) != signature.document.version:
        return ConsentRow.OLDER_VERSION
    return ConsentRow.VALID


def consent_rows(*, episode: Episode) -> list[ConsentRow]:
    """The episode's signatures, newest first, each with its state: two queries."""
    signatures = list(
        ConsentSignature.objects.filter(episode=episode)
        .select_related("document", "recorded_by", "withdrawn_recorded_by")
        .order_by("-signed_at", "-pk")
    )
    versions = current_versions() if signatures else {}
    return [
        ConsentRow(signature=s, state=_state(s, versions), current_version=versions.get(s.document.language))
        for s in signatures
    ]


def valid_consent(episode: Episode) -> ConsentSignature | None:
    """The episode's signed consent that still holds: not withdrawn, on the current version of its
    language, and whose stored text and PDF still match their hashes. None if there is none."""
    return next((row.signature for row in consent_rows(episode=episode) if row.is_valid), None)


# --- Withdrawal ----------------------------------------------------------------------------------


def consent_withdraw(
    *, signature: ConsentSignature, reason: str, by: User, request: Any = None, now: datetime | None = None
) -> ConsentSignature:
    """Record that the patient withdrew this consent (the row stays, with who recorded it, when and why)."""
    reason = (reason or "").strip()
    if not reason:
        raise ConsentError(_("Please write why, or what the patient said."), field="reason")
    with transaction.atomic():
        locked = ConsentSignature.objects.select_for_update().select_related("episode").get(pk=signature.pk)
        if locked.withdrawn_at is not None:
            raise ConsentError(_("This consent was already withdrawn."))
        locked.withdrawn_at = now or timezone.now()
        locked.withdrawn_reason = reason
        locked.withdrawn_recorded_by = by
        locked.save(update_fields=["withdrawn_at", "withdrawn_reason", "withdrawn_recorded_by"])
        episode = locked.episode
        if not any(row.is_valid for row in consent_rows(episode=episode)):
            episode.status = Episode.Status.WITHDRAWN
            episode.updated_by = by
            episode._history_user = by  # type: ignore[attr-defined]
            episode.save(update_fields=["status", "updated_by", "updated_at"])
        audit_record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            object_type="consent",
            object_ref=str(locked.uuid),
            patient=episode.patient,
            request=request,
        )
    return locked


# --- The link to sign remotely -------------------------------------------------------------------


def consent_link_send(*, episode: Episode, by: User, request: Any = None) -> PatientLink:
    """Email the patient a single-use link to read and sign the consent at home (earlier links stop working).

    The email says only that a form waits to be signed, with the link: nothing about the
    treatment. Refused (ConsentError) without an email address, without a document in the
    patient's language, when the consent needs a witness, or when it is already signed.
    """
    from accounts.links import link_issue
    from outbox.services import email_queue
    from website.models import Office, Practice

    patient = episode.patient
    if not patient.email:
        raise ConsentError(_("This patient has no email address on file: sign the consent in the office instead."))
    language = patient.preferred_language if patient.preferred_language in ConsentDocument.Language.values else "en"
    document = document_for(language)
    if document is None:
        raise ConsentError(_("No consent document is published yet: publish one first."))
    if document.requires_witness:
        raise ConsentError(_("This consent needs a witness: it can only be signed in the office."))
    _refuse_if_signed(episode, document)
    with transaction.atomic():
        link, token = link_issue(purpose=PatientLink.Purpose.CONSENT, patient=patient, target=episode.uuid, by=by)
        with translation.override(language):
            url = settings.SITE_URL + reverse("patients:consent_remote", kwargs={"token": token})
            practice = Practice.objects.first()
            body = render_to_string(
                "patients/consent/email/link.txt",
                {
                    "url": url,
                    "days": VALID_FOR[PatientLink.Purpose.CONSENT].days,
                    "practice": practice,
                    "offices": Office.objects.filter(is_active=True),
                },
            )
            subject = _("A form to read and sign before your visit")
        email_queue(
            message=EmailMessage(subject=subject, body=body, to=[patient.email]),
            kind=LINK_EMAIL_KIND,
            reference=link.uuid,
        )
        audit_record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            object_type="consent_link",
            object_ref=str(link.uuid),
            patient=patient,
            request=request,
        )
    return link
