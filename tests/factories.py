"""Factories for test data: `make.user(...)`, `make.department(...)`, `make.programme(...)`."""

from contextlib import contextmanager
from datetime import date, timedelta
from itertools import count

import pytest
from sqlalchemy import event, select

from preceptor.extensions import db
from preceptor.models import (
    Allocation,
    Department,
    EntryKind,
    LogEntry,
    Milestone,
    PreceptorProfile,
    Profession,
    Role,
    Site,
    User,
)
from preceptor.services import accounts, signoff_requests
from preceptor.services.framework import install_default_framework
from preceptor.services.programmes import start_preceptorship

PASSWORD = "correct-horse-battery"


class Make:
    def __init__(self):
        self.serial = count(1)

    def site(self, name: str | None = None) -> Site:
        site = Site(name=name or f"Site {next(self.serial)}")
        db.session.add(site)
        db.session.flush()
        return site

    def department(self, name: str | None = None, site: Site | None = None,
                   profession: Profession = Profession.DIAGNOSTIC, **kw) -> Department:
        department = Department(name=name or f"Department {next(self.serial)}", site=site or self.site(),
                                profession=profession, **kw)
        db.session.add(department)
        db.session.flush()
        return department

    def user(self, *roles: Role, email: str | None = None, name: str | None = None, password: str = PASSWORD,
             **kw) -> User:
        n = next(self.serial)
        user = accounts.create_user(email or f"person{n}@test.nhs.uk", name or f"Person {n}", list(roles),
                                    password=password)
        for key, value in kw.items():
            setattr(user, key, value)
        db.session.flush()
        return user

    def preceptor(self, department: Department | None = None, *, trained: bool = True, years: int = 5,
                  name: str | None = None, **kw) -> User:
        user = self.user(Role.PRECEPTOR, name=name)
        today = date.today()
        db.session.add(PreceptorProfile(
            user=user, department=department or self.department(),
            registered_on=kw.pop("registered_on", today - timedelta(days=365 * years)),
            trained_on=kw.pop("trained_on", today - timedelta(days=100) if trained else None), **kw,
        ))
        db.session.flush()
        return user

    def sign_off_request(self, programme, n: int, title: str, *, what_happened: str = "Scan",
                         summary: str = "Done it"):
        """The programme's n-th milestone (by due date) with one reflection attached and sign-off
        requested; committed, as a preceptee's request would be."""
        milestone = db.session.scalars(select(Milestone).where(Milestone.preceptorship_id == programme.id)
                                       .order_by(Milestone.due_date, Milestone.id)).all()[n]
        entry = LogEntry(preceptorship=programme, author_id=programme.preceptee_id, kind=EntryKind.REFLECTION,
                         title=title, occurred_on=date.today(), what_happened=what_happened, so_what="Learnt",
                         now_what="Plan")
        db.session.add(entry)
        db.session.flush()
        signoff_requests.request_sign_off(milestone, programme.preceptee, summary, {entry.id})
        db.session.commit()
        return milestone

    def programme(self, preceptee: User | None = None, department: Department | None = None,
                  start: date | None = None, preceptor: User | None = None):
        programme = start_preceptorship(preceptee or self.user(Role.PRECEPTEE), department or self.department(),
                                        start or date.today() - timedelta(days=30))
        if preceptor is not None:
            db.session.add(Allocation(preceptorship=programme, preceptor=preceptor, starts_on=programme.start_date))
        db.session.flush()
        return programme


@contextmanager
def counted_queries():
    """The SQL statements run inside the block, as a list that fills as they run."""
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


@pytest.fixture
def make(app) -> Make:
    return Make()


@pytest.fixture
def setting(app, make):
    """With the default framework: a programme 120 days in, and its current preceptor."""
    install_default_framework()
    preceptor = make.preceptor()
    programme = make.programme(start=date.today() - timedelta(days=120), preceptor=preceptor)
    db.session.commit()
    return programme, preceptor


@pytest.fixture
def signed_in_preceptee(client, make):
    """A signed-in preceptee 60 days into a programme with a preceptor; the programme."""
    install_default_framework()
    user = make.user(Role.PRECEPTEE, email="nq@test.nhs.uk")
    programme = make.programme(preceptee=user, start=date.today() - timedelta(days=60), preceptor=make.preceptor())
    db.session.commit()
    client.sign_in("nq@test.nhs.uk", PASSWORD)
    return programme
