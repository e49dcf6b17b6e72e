"""Small template helpers for the public site."""

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def language_links(context: template.Context) -> list[dict[str, object]]:
    """This page in each language, for the language switch and <link rel=alternate>.

    `absolute` is the address search engines need in hreflang links: from SITE_URL, the
    site's one public address, so a cached page names the same host whoever asked first.
    """
    request: HttpRequest | None = context.get("request")
    path = request.get_full_path() if request is not None else "/"
    if context.get("error_page"):
        # An error page names nothing of the request, not even in its language links: the home page's.
        path = "/"
    current = get_language()
    links: list[dict[str, object]] = []
    for code, name in settings.LANGUAGES:
        url = translate_url(path, code)
        links.append(
            {
                "code": code,
                "name": name,
                "url": url,
                "absolute": settings.SITE_URL + url,
                "current": code == current,
                "default": code == settings.LANGUAGE_CODE,
            }
        )
    return links
