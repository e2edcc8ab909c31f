"""The education lead's home page: the departments they lead at a glance."""

from ..access import lead_scope, role_required
from ..models import Role
from ..rendering import render_page
from . import bp, queries


@bp.get("/")
@role_required(Role.EDUCATION_LEAD)
def home():
    scope = lead_scope()
    return render_page("lead/home.html", rows=queries.department_overview(scope), trust_wide=scope is None)
