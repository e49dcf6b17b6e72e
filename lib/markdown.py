"""Markdown written by staff, turned into HTML that is safe to show the public."""

import markdown as md
import nh3

_ALLOWED_TAGS = {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "br", "blockquote"}
_ALLOWED_ATTRIBUTES = {"h2": {"id"}, "h3": {"id"}, "a": {"href", "title"}}


def render_markdown(text: str) -> str:
    """HTML from Markdown, with raw HTML, scripts, styles and foreign attributes removed.

    `## Heading {#id}` keeps its id so sections can be linked to. Links may only
    point to this site or to http(s)/mailto/tel addresses.
    """
    html = md.markdown(text, extensions=["attr_list", "sane_lists"], output_format="html")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


def split_front(text: str) -> tuple[str, str, str]:
    """(title, lead paragraph, rest) of a page file: '# Title', a paragraph, then sections."""
    lines = text.strip().splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError("A page file starts with '# Title'.")
    title = lines[0][2:].strip()
    rest = "\n".join(lines[1:]).strip()
    lead, _, body = rest.partition("\n\n")
    return title, " ".join(lead.split()), body.strip()
