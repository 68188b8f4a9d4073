"""The one SQLAlchemy MetaData every table module registers on."""

from __future__ import annotations

from sqlalchemy import MetaData, Numeric

__all__ = ["MONEY", "metadata"]

# Stable constraint names so that migrations are reproducible on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Money is exact: 18 digits before the point, 12 after (fractions of a micro-dollar matter
# for per-token prices).
MONEY = Numeric(30, 12, asdecimal=True)
