"""Which addresses Paperboy can send to: one rule for sign-up, the CSV import and the send path.

The mailbox name (the part before the @) must be ASCII. Django would send `jörg@example.com` as
`=?utf-8?b?...?=@example.com`, a mailbox nobody has, and the alternative, SMTPUTF8, is missing
from most mail servers. A Unicode domain is fine: Django writes it in IDNA (punycode), which
every mail server takes, so `anna@bücher.example` goes out as `anna@xn--bcher-kva.example`.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.encoding import punycode

NON_ASCII_MAILBOX = (
    "the part before the @ has non-ASCII characters (like jörg@...): Paperboy sends only to"
    " plain-ASCII mailbox names, because most mail servers cannot receive others (no SMTPUTF8)"
)
NOT_AN_ADDRESS = "not an email address"


def address_problem(address: str) -> str | None:
    """None if Paperboy can send to `address`, else why not: NON_ASCII_MAILBOX or NOT_AN_ADDRESS.

    The address is taken as stored (normalised, no display name). Cheap and free of queries, so
    the send path may call it on every recipient."""
    mailbox, at, domain = address.rpartition("@")
    # Checked first: Django's validator refuses these too, but with no reason a reader can act on.
    if at and not mailbox.isascii():
        return NON_ASCII_MAILBOX
    try:
        validate_email(address)
        # The validator takes some Unicode domains the IDNA codec cannot write (a label of 63
        # letters grows past 63 in punycode); sending would then raise, so refuse them now.
        punycode(domain)
    except (ValidationError, UnicodeError):
        return NOT_AN_ADDRESS
    return None
