"""One place decides whether a request gets the whole page or one swappable region.

A region is a named block in its page template with an element of the same `id`. An htmx
request whose `HX-Target` names one of the page's regions gets only that block; anything
else (plain browser, boosted navigation, JavaScript off) gets the whole page.
"""

from flask import make_response, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def render_page(template: str, *, regions: tuple[str, ...] = (), status_code: int = 200, **context):
    if htmx and not htmx.boosted and htmx.target in regions:
        body = render_block(template, htmx.target, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status_code)  # not `status`: pages use that word for their own data
    response.vary.update(("HX-Request", "HX-Target"))
    return response
