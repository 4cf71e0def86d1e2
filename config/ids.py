"""Ids read from outside (a form's field, a link's query, a webhook's metadata), and many ids
handed to PostgreSQL at once."""

from django.db.models import Lookup
from django.db.models.lookups import In

# No real id is longer, and a longer one can overflow a 64-bit integer (the forms' fuzzing found
# SQLite raising OverflowError on one). Digits of other scripts are refused too: int() reads
# "٣" as 3, so they could name another row.
MAX_ID_DIGITS = 18


def id_from(text: str | None) -> int | None:
    """The id `text` spells in ASCII digits, or None: missing, malformed or too long."""
    if text is None or not (text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS):
        return None
    return int(text)


def int_array(values: list[int]) -> str:
    """A PostgreSQL array literal of integers ('{1,2,3}'): one parameter for any number of ids,
    where the ORM's pk__in takes one per id."""
    return "{" + ",".join(map(str, values)) + "}"


class AnyOf(Lookup):
    """`filter(AnyOf(F("subscriber_id"), ids))`: the column is one of `ids`. On PostgreSQL the
    ids travel as one array parameter (`= ANY(%s::bigint[])`); pk__in's IN (%s, %s, ...) made a
    query too long for psycopg's cache of parsed queries, and parsing one with a chunk's 500
    placeholders was 3% of a send worker's time. Elsewhere it is IN, as pk__in."""

    prepare_rhs = False  # a list of ids, not one value of the column

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        if connection.vendor != "postgresql":
            return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, int_array(list(self.rhs))]
