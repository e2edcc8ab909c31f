"""Changing a person's details: name, email and HCPC number, and for a preceptor the
department they work in and their HCPC registration date (their place in the register).

A plain form posted and redirected; refusals (an email or number someone else has) are shown
next to the field with everything typed kept, and nothing is saved.
"""

from datetime import date

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from wtforms import SelectField
from wtforms.validators import ValidationError

from ..access import role_required
from ..extensions import db
from ..fields import DateParts, chosen_id
from ..models import PreceptorProfile, Role, User
from ..rendering import render_page
from ..services import person_details as service
from ..services.people import PeopleRefused, department_choices
from ..transactions import commit
from . import bp
from .people import RACE, DetailsForm, refuse


class PersonDetailsForm(DetailsForm):
    department = SelectField("Department they work in", validate_choice=False)
    registered_on = DateParts("Registered with the HCPC on",
                              required_message="Enter the date they registered with the HCPC")

    def validate_registered_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError("The HCPC registration date must be today or in the past")


@bp.route("/people/<int:user_id>/details", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def person_details(user_id: int):
    """Change someone's details; a preceptor's department and registration date too."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.erased_at is not None:
        flash("This person's details have been erased and cannot be changed.", "info")
        return redirect(url_for("admin.person", user_id=user.id))
    profile = db.session.get(PreceptorProfile, user.id)
    is_preceptor = Role.PRECEPTOR in user.roles
    form = PersonDetailsForm(obj=user, department=str(profile.department_id) if profile else "",
                             registered_on=profile.registered_on if profile else None)
    departments = department_choices()
    if profile and profile.department not in departments:
        departments.append(profile.department)  # an archived department they still work in
    form.department.choices = [("", "Choose a department"), *((str(d.id), d.full_name) for d in departments)]
    if not is_preceptor:
        del form.department, form.registered_on  # only a preceptor has a place in the register
    problems: list[str] = []
    if form.validate_on_submit():
        me, changed = current_user._get_current_object(), []

        def change():
            changed.append(service.change_details(user, form.name.data, form.email.data,
                                                  form.hcpc_number.data or None, me))
            if is_preceptor:
                changed.append(service.place_preceptor(user, chosen_id(form.department.data),
                                                       form.registered_on.data, me))

        try:
            saved = commit(change, problems, stale=RACE, refusals=())
        except PeopleRefused as refused:
            db.session.rollback()
            refuse(form, refused, problems)
            saved = False
        if saved:
            flash(f"{user.name}'s details are saved." if any(changed) else "Nothing was changed.",
                  "success" if any(changed) else "info")
            return redirect(url_for("admin.person", user_id=user.id))
    return render_page("admin/person_details.html", person=user, form=form, problems=problems,
                       is_preceptor=is_preceptor, status_code=400 if form.errors or problems else 200)

