"""The large trust's organisation and staff: sites, departments, leads, an admin and the
preceptors with their profiles and logged protected time. Preceptees are added with their
programmes (programmes.py)."""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app

from ..models import (
    Department,
    PreceptorProfile,
    Profession,
    ProtectedTime,
    Role,
    Site,
    User,
    UserRole,
    lead_department,
)
from .bulk import Writer, at

SITE_NAMES = ["Royal Preston Hospital", "Chorley and South Ribble Hospital", "Blackpool Victoria Hospital",
              "Royal Lancaster Infirmary"]
# Radiotherapy comes early so that even a small trust has a therapeutic department.
DEPARTMENT_NAMES = ["General X-ray", "CT", "Radiotherapy treatment", "MRI", "Fluoroscopy", "Ultrasound",
                    "Radiotherapy pre-treatment", "Interventional radiology", "Nuclear medicine", "Mammography",
                    "Theatres and wards", "Emergency department imaging", "Paediatric imaging",
                    "Dental and OPG", "Radiotherapy review clinic"]
FIRST = ["Aisha", "Ben", "Chloe", "Daniel", "Ella", "Farah", "George", "Hannah", "Imran", "Jess", "Kieran",
         "Lucy", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom", "Usha", "Victoria", "Will",
         "Yasmin", "Zak", "Amelia", "Callum", "Deepa", "Ethan", "Grace", "Harvey", "Isla", "Jamal", "Katie",
         "Liam", "Maya", "Nathan", "Olivia", "Pawel", "Ruth", "Sanjay", "Tariq", "Wendy", "Xavier", "Zoe"]
LAST = ["Ahmed", "Bennett", "Clarke", "Davies", "Evans", "Fletcher", "Gill", "Hughes", "Iqbal", "Jones", "Khan",
        "Lewis", "Morgan", "Nolan", "Owen", "Patel", "Quinn", "Roberts", "Shah", "Taylor", "Underwood", "Walsh",
        "Young", "Ashworth", "Brennan", "Cartwright", "Dixon", "Hartley", "Moss", "Nowak", "Okafor", "Price",
        "Singh", "Thompson", "Wright", "Kowalski", "Mensah", "Lloyd", "Murphy", "Chen"]


@dataclass
class Dept:
    id: int
    site_id: int
    profession: Profession
    cap: int  # a preceptor's cap here when they have none of their own


@dataclass
class Preceptor:
    user_id: int
    department_id: int
    cap: int  # effective cap
    eligible: bool  # trained, registered long enough and not on leave today


@dataclass
class Trust:
    """What later steps need to know about the organisation and its staff."""

    today: date
    password_hash: str
    departments: list[Dept] = field(default_factory=list)
    preceptors: dict[int, list[Preceptor]] = field(default_factory=dict)  # by department id
    lead_id: int = 0
    admin_id: int = 0
    rep_preceptor_id: int = 0
    serial: int = 0  # people created so far: keeps emails and HCPC numbers unique


def person(writer: Writer, trust: Trust, rng: random.Random, role: Role, *, email: str | None = None,
           name: str | None = None, hcpc: bool = True, active: bool = True, joined: date,
           deactivated: date | None = None, trust_wide: bool = False) -> int:
    """A user with one role; returns their id. Everyone shares the one password hash."""
    trust.serial += 1
    name = name or f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    user_id = writer.new_id(User)
    writer.add(User, {
        "id": user_id, "email": email or f"{name.lower().replace(' ', '.')}.{trust.serial}@scale.nhs.uk",
        "name": name, "password_hash": trust.password_hash,
        "hcpc_number": f"RA{100000 + trust.serial}" if hcpc else None, "phone": None, "active": active,
        "trust_wide": trust_wide, "auth_version": 1, "created_at": at(joined, rng.randint(480, 1020)),
        "last_sign_in_at": None, "deactivated_at": at(deactivated) if deactivated else None, "erased_at": None})
    writer.add(UserRole, {"user_id": user_id, "role": role})
    return user_id


def organisation(writer: Writer, trust: Trust, scale: float) -> None:
    """Sites and departments (60 on 4 sites at scale 1; never fewer than 2 sites and 4 departments)."""
    sites = min(len(SITE_NAMES), max(2, round(4 * scale)))
    departments = min(sites * len(DEPARTMENT_NAMES), max(4, round(60 * scale)))
    site_ids = []
    for name in SITE_NAMES[:sites]:
        site_ids.append(writer.new_id(Site))
        writer.add(Site, {"id": site_ids[-1], "name": name, "archived_at": None})
    default_cap = current_app.config["DEFAULT_PRECEPTOR_CAP"]
    for n in range(departments):
        name = DEPARTMENT_NAMES[n // sites]
        profession = Profession.THERAPEUTIC if name.startswith("Radiotherapy") else Profession.DIAGNOSTIC
        cap = 3 if n % 6 == 5 else None  # a few departments allow more preceptees each
        dept = Dept(writer.new_id(Department), site_ids[n % sites], profession, cap or default_cap)
        writer.add(Department, {
            "id": dept.id, "site_id": dept.site_id, "name": name, "profession": profession, "preceptor_cap": cap,
            "preceptee_protected_hours": Decimal("37.50") if n % 4 == 0 else None, "archived_at": None,
            "merged_into_id": None})
        trust.departments.append(dept)
        trust.preceptors[dept.id] = []


def staff(writer: Writer, trust: Trust, rng: random.Random, scale: float, accounts: dict[str, str]) -> None:
    """The admin, a trust-wide lead, one lead per site, and the preceptors."""
    today = trust.today
    trust.admin_id = person(writer, trust, rng, Role.ADMIN, email=accounts["admin"], name="Adam Admin",
                            hcpc=False, joined=today - timedelta(days=1900))
    trust.lead_id = person(writer, trust, rng, Role.EDUCATION_LEAD, email=accounts["education_lead"],
                           name="Rachel Lead", joined=today - timedelta(days=1900), trust_wide=True)
    for site_id in sorted({d.site_id for d in trust.departments}):
        lead = person(writer, trust, rng, Role.EDUCATION_LEAD, joined=today - timedelta(days=rng.randint(200, 1800)))
        writer.add_all(lead_department, ({"user_id": lead, "department_id": d.id}
                                         for d in trust.departments if d.site_id == site_id))
    count = max(len(trust.departments) * 2, round(1500 * scale))
    for n in range(count):
        dept = trust.departments[n % len(trust.departments)]
        representative = n == 0  # trained, available and with a cap of 3: filled by programmes.py
        registered = today - timedelta(days=rng.randint(400, 9000))
        newly_registered = not representative and rng.random() < 0.03
        if newly_registered:
            registered = today - timedelta(days=rng.randint(60, 330))
        trained = representative or (not newly_registered and rng.random() < 0.9)
        on_leave = not representative and rng.random() < 0.05
        cap = 3 if representative else rng.choice((None, None, None, None, None, None, 1, 3, 3))
        user_id = person(writer, trust, rng, Role.PRECEPTOR, joined=registered,
                         email=accounts["preceptor"] if representative else None,
                         name="Priya Preceptor" if representative else None)
        trained_on = min(today - timedelta(days=30), registered + timedelta(days=rng.randint(380, 900)))
        writer.add(PreceptorProfile, {
            "user_id": user_id, "department_id": dept.id, "band": rng.choice((6, 6, 6, 7, 7, 8)), "cap": cap,
            "trained_on": trained_on if trained else None, "registered_on": registered,
            "unavailable_until": today + timedelta(days=rng.randint(7, 90)) if on_leave else None,
            "unavailable_reason": rng.choice(("Annual leave", "Secondment", "Maternity leave")) if on_leave else None,
            "protected_hours_allowance": Decimal("24.00") if n % 5 == 0 else None})
        eligible = trained and not newly_registered and not on_leave
        trust.preceptors[dept.id].append(Preceptor(user_id, dept.id, cap or dept.cap, eligible))
        if representative:
            trust.rep_preceptor_id = user_id
        if trained:
            for k in range(rng.randint(2 if representative else 0, 4)):  # protected time over the last year
                day = today - timedelta(days=14 + 70 * k + rng.randint(0, 30))
                writer.add(ProtectedTime, {
                    "id": writer.new_id(ProtectedTime), "preceptor_id": user_id, "occurred_on": day,
                    "hours": Decimal(rng.choice(("1.00", "1.50", "2.00", "3.00"))),
                    "note": rng.choice(("Preceptor time", "Reviewing reflections", "Planning a review")),
                    "created_at": at(day, 16 * 60)})
