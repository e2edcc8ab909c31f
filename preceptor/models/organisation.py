"""The trust's shape: sites and the departments (clinical services) at them."""

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._columns import Timestamp, enum_column


class Profession(enum.StrEnum):
    DIAGNOSTIC = "diagnostic"
    THERAPEUTIC = "therapeutic"

    @property
    def label(self) -> str:
        return f"{self.value.capitalize()} radiography"


class Site(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)

    departments: Mapped[list["Department"]] = relationship(back_populates="site", order_by="Department.name")


class Department(db.Model):
    """A clinical service at a site, e.g. "CT, Royal Preston".

    Its own defaults override the trust's (config) where set.
    """

    __table_args__ = (sa.UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    profession: Mapped[Profession] = mapped_column(enum_column(Profession))
    preceptor_cap: Mapped[int | None] = mapped_column(sa.SmallInteger)
    preceptee_protected_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    archived_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # After a merge the old department stays (its history points at it) and names its successor.
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))

    site: Mapped[Site] = relationship(back_populates="departments", lazy="joined")

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.site.name}"
