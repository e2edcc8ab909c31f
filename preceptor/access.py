"""Who may do what: the role guard for views, and the user's active role."""

from functools import wraps

from flask import abort, request, session
from flask_login import current_user, login_required

from .models import Role

ROLE_HOME = {
    Role.PRECEPTEE: "preceptee.home",
    Role.PRECEPTOR: "caseload.home",
    Role.EDUCATION_LEAD: "lead.capacity",
    Role.ADMIN: "admin.home",
}


def role_required(*roles: Role):
    """Signed in and holding one of `roles`; anonymous users go to sign-in, others get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.roles.intersection(roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = frozenset(roles)
        return wrapped

    return decorator


# The role each area's pages belong to: someone holding several sees the navigation of the
# area they are in, whichever role they last chose.
AREA_ROLE = {"preceptee": Role.PRECEPTEE, "caseload": Role.PRECEPTOR, "lead": Role.EDUCATION_LEAD,
             "admin": Role.ADMIN}


def active_role() -> Role | None:
    """The role whose pages and navigation the user is looking at now."""
    if not current_user.is_authenticated:
        return None
    area = AREA_ROLE.get(request.blueprint)
    if area in current_user.roles:
        return area
    chosen = session.get("role")
    if chosen in {r.value for r in current_user.roles}:
        return Role(chosen)
    return current_user.main_role


def lead_scope() -> list[int] | None:
    """Department ids the signed-in lead may see; None means every department (trust-wide)."""
    if current_user.trust_wide:
        return None
    return sorted(d.id for d in current_user.lead_departments)
