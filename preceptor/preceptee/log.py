"""The progress log: list, search, add, view and edit entries; autosaved drafts."""

from datetime import datetime

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from ..access import role_required
from ..extensions import db, htmx
from ..models import EntryKind, Role
from ..rendering import render_page
from ..services import progress_log
from ..services.signoff_requests import SignOffRefused
from ..templating import local_zone
from . import bp, queries
from .forms import EntryForm

PER_PAGE = 20


def _programme_or_404():
    programme = queries.my_programme(current_user.id)
    if programme is None:
        abort(404)
    return programme


@bp.get("/log")
@role_required(Role.PRECEPTEE)
def log():
    """Entries newest first, searchable and filtered by kind; htmx swaps the results."""
    programme = queries.my_programme(current_user.id)
    search = request.args.get("q", "").strip()[:100]
    kind = request.args.get("kind")
    kind = kind if kind in {k.value for k in EntryKind} else None
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = queries.entries(programme.id, search, kind, page, PER_PAGE) if programme else ([], 0)
    pages = max(1, -(-total // PER_PAGE))
    return render_page("preceptee/log.html", regions=("entries",), programme=programme, rows=rows, total=total,
                       search=search, kind=kind, page=min(page, pages), pages=pages, kinds=list(EntryKind))


def _form(programme, entry=None, kind: str | None = None) -> tuple[EntryForm, object]:
    """The entry form: the posted data, else a saved draft, else the entry itself."""
    key = f"log:{entry.id}" if entry else f"log:new:{kind}"
    draft = progress_log.load_draft(current_user, key) if request.method == "GET" else None
    if request.method == "POST":
        form = EntryForm(obj=entry, programme_start=programme.start_date)  # the posted data
    else:
        form = EntryForm(formdata=MultiDict(draft.data) if draft else None, obj=entry,
                         programme_start=programme.start_date, kind=kind)
    if entry is not None:
        form.kind.data = entry.kind.value
    linked = queries.milestones_of_entry(entry.id) if entry else []
    options = {m.id: m for m in queries.linkable_milestones(programme.id) + linked}
    form.milestones.choices = [SelectChoice(m.id, m.title) for m in sorted(options.values(), key=lambda m: m.due_date)]
    if request.method == "GET" and not draft:
        form.milestones.data = [m.id for m in linked]
    form.draft_key = key
    return form, draft


def _values(form: EntryForm) -> dict:
    reflection = form.kind.data == EntryKind.REFLECTION.value
    return {
        "kind": EntryKind(form.kind.data), "title": form.title.data, "occurred_on": form.occurred_on.data,
        "hours": form.hours.data,
        "what_happened": (form.what_happened.data or "") if reflection else "",
        "so_what": (form.so_what.data or "") if reflection else "",
        "now_what": (form.now_what.data or "") if reflection else "",
        "notes": "" if reflection else (form.notes.data or ""),
    }


def _save(programme, form: EntryForm, entry=None):
    problems = []
    if form.validate_on_submit():
        try:
            entry = progress_log.save_entry(programme, current_user, _values(form), set(form.milestones.data or []),
                                            entry=entry)
            db.session.commit()
        except SignOffRefused as refusal:
            db.session.rollback()
            problems.append(str(refusal))
        except StaleDataError:
            db.session.rollback()
            problems.append("A milestone you chose changed while you were writing. Check your choices and save again.")
        else:
            if htmx and htmx.target == "entry_panel":  # saved from the log page's inline panel
                response = render_page("preceptee/entry_form.html", regions=("entry_panel",), form=form,
                                       saved_entry=entry, heading="")
                response.headers["HX-Trigger"] = "log-changed"
                return response, problems
            flash("Entry saved.", "success")
            flash(form.draft_key, "clear-draft")
            return redirect(url_for("preceptee.entry", entry_id=entry.id)), problems
    return None, problems


def milestone_items(form: EntryForm, programme) -> list[dict]:
    """Checkbox items for the milestones; those waiting or signed off say they are locked."""
    open_ids = {m.id for m in queries.linkable_milestones(programme.id)}
    return [{"value": str(choice.value), "text": choice.label,
             "hint": None if choice.value in open_ids else {"text": "Locked while waiting for or after sign-off"}}
            for choice in form.milestones.choices]


@bp.route("/log/new", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def new_entry():
    """Choose a kind, then write the entry. Long text autosaves as a draft while typing."""
    programme = _programme_or_404()
    kind = request.values.get("kind")
    if kind not in {k.value for k in EntryKind}:
        return render_page("preceptee/entry_kinds.html", regions=("entry_panel",), kinds=list(EntryKind))
    form, draft = _form(programme, kind=kind)
    response, problems = _save(programme, form) if request.method == "POST" else (None, [])
    if response is not None:
        return response
    kind = EntryKind(kind)
    return render_page("preceptee/entry_form.html", regions=("entry_panel",), form=form, draft=draft,
                       problems=problems, entry=None, kind=kind, heading=f"Add a {kind.label.lower()}",
                       milestone_items=milestone_items(form, programme))


@bp.get("/log/<int:entry_id>")
@role_required(Role.PRECEPTEE)
def entry(entry_id: int):
    entry = queries.own_entry_or_404(entry_id, current_user.id)
    return render_page("preceptee/entry.html", entry=entry, milestones=queries.milestones_of_entry(entry.id))


@bp.route("/log/<int:entry_id>/edit", methods=["GET", "POST"])
@role_required(Role.PRECEPTEE)
def edit_entry(entry_id: int):
    entry = queries.own_entry_or_404(entry_id, current_user.id)
    programme = entry.preceptorship
    form, draft = _form(programme, entry=entry)
    response, problems = _save(programme, form, entry) if request.method == "POST" else (None, [])
    if response is not None:
        return response
    return render_page("preceptee/entry_form.html", regions=("entry_panel",), form=form, draft=draft,
                       problems=problems, entry=entry, kind=entry.kind, heading=f"Edit {entry.title}",
                       milestone_items=milestone_items(form, programme))


def _draft_key() -> str:
    """The posted draft key: well formed (else 400) and, for an entry, the person's own (else 404)."""
    key = request.form.get("draft_key", "")
    if not progress_log.valid_draft_key(key):
        abort(400)
    if key.removeprefix("log:").isdigit():
        queries.own_entry_or_404(int(key.removeprefix("log:")), current_user.id)
    return key


@bp.post("/drafts")
@role_required(Role.PRECEPTEE)
def autosave():
    """htmx autosave: store the form as typed so far, and say when."""
    key = _draft_key()
    values = {name: values for name, values in request.form.to_dict(flat=False).items()
              if name not in ("csrf_token", "draft_key")}
    progress_log.save_draft(current_user, key, values)
    db.session.commit()
    response = make_response(f"Draft saved at {datetime.now(local_zone()):%H:%M}")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/drafts/discard")
@role_required(Role.PRECEPTEE)
def discard_draft():
    key = _draft_key()
    progress_log.discard_draft(current_user, key)
    db.session.commit()
    flash("Draft discarded.", "success")
    target = key.removeprefix("log:")
    if target.isdigit():
        return redirect(url_for("preceptee.edit_entry", entry_id=int(target)))
    return redirect(url_for("preceptee.new_entry", kind=target.removeprefix("new:")))
