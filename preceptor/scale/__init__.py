"""A large generated trust for performance work (`flask --app preceptor seed-scale`).

At scale 1: 60 departments on 4 sites, 1,500 preceptors, 3,000 programmes over five years
(600 running with a preceptor, 150 waiting for one, the rest completed or left) and 250
starting soon; their milestones from the real framework, 150,000 log entries, sign-off
requests and decisions, 2,000 meetings, learning needs and goals, 12,000 survey responses
at most (92% of closed invitations are answered), allocations and the audit history.

Everything comes from the seed and `today`: the same arguments give the same rows. Rows are
planned in Python and inserted in bulk (bulk.py); only the small reference data (framework,
learning-need areas, surveys) and the surveys open today go through the domain services.
"""

import random
import time
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Department, LearningNeedArea, User
from ..services import accounts, survey_waves
from ..services.framework import install_default_framework
from ..services.learning_needs import install_default_areas
from ..services.programmes import applicable_templates
from ..services.survey_library import install_default_surveys
from .bulk import Writer
from .development import learning_needs, meetings
from .people import Trust, organisation, staff
from .programmes import plan_programmes, write_programmes
from .progress import Progress, Template, entry_counts, log_entries
from .surveys import surveys

# Every generated person's password, hashed once; published on purpose: the trust is for benchmarks only.
SCALE_PASSWORD = "Scale-trust-2026"  # noqa: S105
ACCOUNTS = {"preceptee": "preceptee@scale.nhs.uk", "preceptor": "preceptor@scale.nhs.uk",
            "education_lead": "lead@scale.nhs.uk", "admin": "admin@scale.nhs.uk"}


class ScaleRefused(RuntimeError):
    """The database already has people: the generator only fills an empty one."""


@dataclass
class Summary:
    counts: dict[str, int]  # table name -> rows inserted
    accounts: dict[str, str]  # role -> email of a representative person
    seconds: float


def generate(seed: int = 2026, scale: float = 1.0, today: date | None = None) -> Summary:
    """Fill a migrated, empty database with a large trust and commit. Needs an app context."""
    if db.session.scalar(sa.select(User.id).limit(1)) is not None:
        raise ScaleRefused("The database already has people; seed-scale needs an empty, migrated database.")
    started = time.perf_counter()
    today = today or date.today()
    install_default_framework()
    install_default_areas()
    install_default_surveys()
    db.session.flush()

    writer = Writer()
    trust = Trust(today, accounts.hash_password(SCALE_PASSWORD))
    organisation(writer, trust, scale)
    staff(writer, trust, random.Random(f"{seed}:staff"), scale, ACCOUNTS)
    plans = plan_programmes(writer, trust, random.Random(f"{seed}:plans"), scale)
    write_programmes(writer, trust, random.Random(f"{seed}:programmes"), plans, ACCOUNTS["preceptee"])
    writer.flush()

    templates = {d.id: [Template(t.id, t.title, t.due_offset_days)
                        for t in applicable_templates(db.session.get(Department, d.id))] for d in trust.departments}
    areas = [(a.id, a.title) for a in db.session.scalars(
        sa.select(LearningNeedArea).where(LearningNeedArea.department_id.is_(None)).order_by(LearningNeedArea.position))]
    entries_rng, needs_rng = random.Random(f"{seed}:entries"), random.Random(f"{seed}:needs")
    progress = Progress(writer, random.Random(f"{seed}:progress"), today, trust.rep_preceptor_id)
    for plan, count in zip(plans, entry_counts(plans, today, round(150_000 * scale), entries_rng), strict=True):
        entries = log_entries(writer, entries_rng, plan, count, today)
        progress.programme(plan, templates[plan.department_id], entries)
        learning_needs(writer, needs_rng, plan, today, areas)
    meetings(writer, random.Random(f"{seed}:meetings"), plans, today, round(2000 * scale), trust.rep_preceptor_id)
    surveys(writer, random.Random(f"{seed}:surveys"), plans, today, round(12_000 * scale))
    writer.finish()

    survey_waves.add_due(today)  # the waves open today, through the real service (it tells each preceptee)
    db.session.commit()
    counts = {table.name: count for table in db.metadata.sorted_tables
              if table.name != "principle" and (count := db.session.scalar(
                  sa.select(sa.func.count()).select_from(table)))}
    return Summary(counts, dict(ACCOUNTS), time.perf_counter() - started)
