"""One place that turns a template trio into an email message.

`templates/emails/<name>-subject.txt`, `<name>.txt` and `<name>.html` are rendered with the
same context: the text ones without HTML escaping, the HTML one escaped and with its <style>
rules inlined (mail clients drop <style> blocks).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template import Context
from django.template.loader import get_template, render_to_string

# @media rules (dark mode, phone widths) cannot be inlined: keep them in a <style> block.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


class HeaderInjectionError(ValueError):
    """A subject or header value contained a line break."""


def render_text(template_name: str, context: Mapping[str, Any]) -> str:
    """Render a plain-text template without HTML escaping: "&amp;" has no place in a subject
    or a text/plain part, and nothing there is interpreted as markup."""
    return get_template(template_name).template.render(Context(dict(context), autoescape=False))


def render_subject(name: str, context: Mapping[str, Any]) -> str:
    # Subjects are one line: templates may end with a newline, scraped titles may hold one.
    return " ".join(render_text(f"emails/{name}-subject.txt", context).split())


def checked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers`; HeaderInjectionError if a name or value holds a line break."""
    for key, value in headers.items():
        if "\n" in value or "\r" in value or "\n" in key or "\r" in key:
            raise HeaderInjectionError(f"line break in header {key!r}")
    return dict(headers)


def build_email(
    name: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    *,
    headers: Mapping[str, str] | None = None,
    from_email: str | None = None,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """Render the `name` trio into a multipart/alternative message (text first, then HTML)."""
    headers = checked_headers(headers or {})
    subject, text, html = render_parts(name, context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


def render_parts(name: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """The trio rendered: subject line, text body, HTML body with its CSS inlined."""
    context = {"site_url": settings.SITE_URL, "postal_address": settings.POSTAL_ADDRESS, **context}
    html = render_to_string(f"emails/{name}.html", context)
    return render_subject(name, context), render_text(f"emails/{name}.txt", context), _INLINER.inline(html)


def send_email(name: str, context: Mapping[str, Any], to: Sequence[str], **kwargs: Any) -> None:
    """Build and send at once; errors propagate so a task can retry."""
    build_email(name, context, to, **kwargs).send()
