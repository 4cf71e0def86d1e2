import pytest
from django.core import mail

from config.emails import HeaderInjectionError, build_email, send_email


@pytest.fixture
def sample_templates(settings, tmp_path):
    folder = tmp_path / "emails"
    folder.mkdir()
    (folder / "sample-subject.txt").write_text("Hello {{ name }}\n")
    (folder / "sample.txt").write_text("Hi {{ name }}, see {{ site_url }}/x\n")
    (folder / "sample.html").write_text(
        "<html><head><style>p { color: red }</style></head><body><p>Hi {{ name }}</p></body></html>"
    )
    # Assigning (not mutating) TEMPLATES makes Django rebuild its template engines.
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]


def test_it_renders_the_trio_with_inlined_css(sample_templates, settings):
    settings.SITE_URL = "https://paperboy.example.test"
    message = build_email("sample", {"name": "Alice <b>"}, ["alice@example.test"])
    # Plain text is not HTML: no entities there; the HTML part is escaped.
    assert message.subject == "Hello Alice <b>"
    assert message.body == "Hi Alice <b>, see https://paperboy.example.test/x\n"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<p style="color: red;">Hi Alice &lt;b&gt;</p>' in html
    assert "<style>" not in html


def test_a_subject_is_always_one_line(sample_templates):
    message = build_email("sample", {"name": "A\nB"}, ["a@example.test"])
    assert message.subject == "Hello A B"


def test_a_header_with_a_line_break_is_refused(sample_templates):
    with pytest.raises(HeaderInjectionError):
        build_email(
            "sample", {"name": "x"}, ["a@example.test"], headers={"X-Tag": "a\r\nBcc: evil@example.test"}
        )


def test_send_email_sends_one_message(sample_templates):
    send_email("sample", {"name": "Bob"}, ["bob@example.test"], headers={"X-Paperboy": "1"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["X-Paperboy"] == "1"
