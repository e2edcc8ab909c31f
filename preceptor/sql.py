"""Date arithmetic SQLite and PostgreSQL spell differently, as SQL constructs that compile to
each dialect, so reports stay set-based on both databases."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class months_after(FunctionElement):
    """`column` + `months`, clamped to the month's end like `programmes.add_months`
    (29 Feb + 12 months is 28 Feb)."""

    type = sa.Date()
    inherit_cache = False  # `months` is not a clause, so it would be missing from the cache key
    name = "months_after"

    def __init__(self, column, months: int):
        self.months = int(months)
        super().__init__(column)


@compiles(months_after, "postgresql")
def _months_after_postgresql(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    return f"CAST({column} + make_interval(months => {element.months}) AS DATE)"


@compiles(months_after, "sqlite")
def _months_after_sqlite(element, compiler, **kw):
    column = compiler.process(list(element.clauses)[0], **kw)
    # SQLite rolls 29 Feb + 12 months over to 1 March; the month's last day caps it.
    return (f"min(date({column}, '+{element.months} months'), "
            f"date({column}, 'start of month', '+{element.months + 1} months', '-1 day'))")
