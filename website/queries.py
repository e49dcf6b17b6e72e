"""Reads of the website domain."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from lib.markdown import render_markdown
from website.caching import bump_content_version, versioned_key
from website.models import Inquiry, Office, OfficeHours, Physician, Practice, SocialLink, TherapyPage


@dataclass(frozen=True)
class PracticeInfo:
    practice: Practice | None
    offices: list[Office]
    physicians: list[Physician]
    social_links: list[SocialLink]


def practice_info() -> PracticeInfo:
    key = versioned_key("practice")
    info: PracticeInfo | None = cache.get(key)
    if info is None:
        info = PracticeInfo(
            practice=Practice.objects.first(),
            offices=list(
                Office.objects.filter(is_active=True).prefetch_related(
                    Prefetch("hours", queryset=OfficeHours.objects.order_by("weekday", "opens")), "physicians"
                )
            ),
            physicians=list(Physician.objects.prefetch_related("offices")),
            social_links=list(SocialLink.objects.all()),
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
    return Inquiry.objects.filter(status=status).select_related("preferred_office").order_by("-created_at")


@receiver([post_save, post_delete], sender=Practice)
@receiver([post_save, post_delete], sender=Office)
@receiver([post_save, post_delete], sender=OfficeHours)
@receiver([post_save, post_delete], sender=Physician)
@receiver([post_save, post_delete], sender=SocialLink)
@receiver([post_save, post_delete], sender=TherapyPage)
@receiver(m2m_changed, sender=Physician.offices.through)
def _public_content_changed(**kwargs: object) -> None:
    bump_content_version()
