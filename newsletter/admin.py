"""The curator console's admin registrations live in newsletter/console/; Django's admin
autodiscovery imports this module, which imports them."""

from newsletter.console import editions, papers  # noqa: F401
