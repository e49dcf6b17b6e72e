"""Staff Markdown becomes safe HTML."""

import pytest

from lib.markdown import render_markdown, split_front


def test_it_keeps_section_anchors_and_lists() -> None:
    html = render_markdown("## Risks {#risks}\n\n- soreness\n- bruising\n\n1. one\n2. two")
    assert html == (
        '<h2 id="risks">Risks</h2>\n<ul>\n<li>soreness</li>\n<li>bruising</li>\n</ul>\n'
        "<ol>\n<li>one</li>\n<li>two</li>\n</ol>"
    )


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("Hi <script>alert(1)</script>", "<p>Hi </p>"),
        ('<img src="https://tracker.example/p.gif">', "<p></p>"),
        ("[x](javascript:alert(1))", '<p><a rel="noopener noreferrer">x</a></p>'),
        ('<p style="color:red" onclick="x()">text</p>', "<p>text</p>"),
        ('<iframe src="https://evil.example"></iframe>', ""),
    ],
)
def test_it_removes_what_could_run_or_track(markdown: str, html: str) -> None:
    assert render_markdown(markdown) == html


def test_it_keeps_site_links() -> None:
    assert render_markdown("[PRP](/prp/)") == '<p><a href="/prp/" rel="noopener noreferrer">PRP</a></p>'


def test_it_splits_a_page_file() -> None:
    text = "# Title\n\nA lead\nover two lines.\n\n## One {#one}\n\nBody."
    assert split_front(text) == ("Title", "A lead over two lines.", "## One {#one}\n\nBody.")


def test_it_refuses_a_page_file_without_a_title() -> None:
    with pytest.raises(ValueError, match="starts with '# Title'"):
        split_front("No title here")
