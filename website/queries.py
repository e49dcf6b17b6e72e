"""Reads of the website domain."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from lib.markdown import render_markdown
from scheduling.models import Provider, WorkingHours
from website.caching import bump_content_version, versioned_key
from website.models import Inquiry, Office, OfficeHours, Practice, SocialLink, TherapyPage


@dataclass(frozen=True)
class PracticeInfo:
    practice: Practice | None
    # Each office carries `clinicians`: the public providers who keep hours there.
    offices: list[Office]
    social_links: list[SocialLink]


def practice_info() -> PracticeInfo:
    key = versioned_key("practice")
    info: PracticeInfo | None = cache.get(key)
    if info is None:
        offices = list(
            Office.objects.filter(is_active=True).prefetch_related(
                Prefetch("hours", queryset=OfficeHours.objects.order_by("weekday", "opens"))
            )
        )
        # The public page names the same clinician the calendar books: a provider with hours at the office.
        public = Provider.objects.filter(is_public=True, is_active=True).order_by("order", "name")
        where = set(WorkingHours.objects.filter(provider__in=public).values_list("office_id", "provider_id"))
        clinicians = list(public)
        for office in offices:
            office.clinicians = [p for p in clinicians if (office.pk, p.pk) in where]  # type: ignore[attr-defined]
        info = PracticeInfo(
            practice=Practice.objects.first(), offices=offices, social_links=list(SocialLink.objects.all())
        )
        cache.set(key, info, settings.PUBLIC_CACHE_SECONDS)
    return info


@dataclass(frozen=True)
class Section:
    anchor: str
    html: str


@dataclass(frozen=True)
class RenderedPage:
    title: str
    summary: str
    sections: list[Section]

    @property
    def html(self) -> str:
        return "".join(section.html for section in self.sections)


_SECTION_START = re.compile(r'(?=<h2 id="([^"]*)">)')


def _sections(html: str) -> list[Section]:
    """Split rendered HTML at each `<h2 id=...>`, so templates can place figures after a section."""
    parts = _SECTION_START.split(html)
    # split() with one group gives [lead, anchor, chunk, anchor, chunk, ...]
    sections = [Section(anchor="", html=parts[0])] if parts[0].strip() else []
    sections += [Section(anchor=anchor, html=chunk) for anchor, chunk in zip(parts[1::2], parts[2::2], strict=True)]
    return sections


def therapy_page(*, slug: str, language: str) -> RenderedPage | None:
    key = versioned_key("page", slug, language)
    page: RenderedPage | None = cache.get(key)
    if page is None:
        row = (
            TherapyPage.objects.filter(slug=slug, language=language).first()
            or TherapyPage.objects.filter(slug=slug, language="en").first()
        )
        if row is None:
            return None
        page = RenderedPage(title=row.title, summary=row.summary, sections=_sections(render_markdown(row.body)))
        cache.set(key, page, settings.PUBLIC_CACHE_SECONDS)
    return page


def inquiries_for_inbox(*, status: str) -> QuerySet[Inquiry]:
    """The inquiries of one status, urgent ones first (a warning sign was mentioned), newest first."""
    return Inquiry.objects.filter(status=status).select_related("preferred_office").order_by("-urgent", "-created_at")


@receiver([post_save, post_delete], sender=Practice)
@receiver([post_save, post_delete], sender=Office)
@receiver([post_save, post_delete], sender=OfficeHours)
@receiver([post_save, post_delete], sender=Provider)
@receiver([post_save, post_delete], sender=WorkingHours)
@receiver([post_save, post_delete], sender=SocialLink)
@receiver([post_save, post_delete], sender=TherapyPage)
def _public_content_changed(**kwargs: object) -> None:
    bump_content_version()
