"""What the benchmark measures: each role's main pages, and one htmx fragment of each.

A fragment is requested as htmx requests it: `HX-Request` and `HX-Target` naming the region
(`preceptor/rendering.py` renders only that block). The home pages have no region of their
own; their fragment is the header's notifications count, which every page polls.
"""

from dataclasses import dataclass

HEALTHZ = "/healthz"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    role: str | None = None  # whose session requests it; None: nobody signed in
    region: str | None = None  # the HX-Target of an htmx fragment
    page: str | None = None  # for a fragment: the name of the full page it belongs to
    page_path: str | None = None  # ...and that page's address (htmx sends it as HX-Current-URL)

    def headers(self, base: str) -> dict[str, str]:
        if self.region is None:
            return {}
        return {"HX-Request": "true", "HX-Target": self.region, "HX-Current-URL": base + (self.page_path or self.path)}


def _page_and_fragment(name: str, path: str, role: str, region: str, fragment_path: str | None = None) -> list[Target]:
    fragment = Target(f"{name}, htmx #{region}", fragment_path or path, role, region, page=name, page_path=path)
    return [Target(name, path, role), fragment]


COUNT = "/notifications/count"

TARGETS: list[Target] = [
    Target("/healthz", HEALTHZ),
    *_page_and_fragment("Preceptee home", "/preceptee/", "preceptee", "notifications-link", COUNT),
    *_page_and_fragment("Preceptee timeline", "/preceptee/timeline", "preceptee", "timeline"),
    *_page_and_fragment("Preceptor home", "/preceptor/", "preceptor", "notifications-link", COUNT),
    *_page_and_fragment("Review queue", "/preceptor/queue", "preceptor", "queue"),
    *_page_and_fragment("Capacity report, whole trust", "/lead/", "education_lead", "capacity_report"),
    *_page_and_fragment("Survey report", "/lead/surveys", "education_lead", "survey_report"),
]
