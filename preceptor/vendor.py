"""Copy the front-end packages from node_modules/ into static/vendor/ (the set-up step).

Run as `python -m preceptor.vendor` after `npm ci`. The NHS.UK stylesheet is rewritten on
the way: its asset URLs become relative to the copied file, and its web-font rules (which
point at an external host) are dropped so nothing loads from outside; text falls back to Arial.
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"

FONT_FACE = re.compile(r"@font-face\{[^}]*\}")


def copy_assets() -> None:
    nhsuk = NODE / "nhsuk-frontend" / "dist" / "nhsuk"
    if not nhsuk.exists():
        sys.exit("error: node_modules/nhsuk-frontend is missing: run `npm ci` first")
    target = VENDOR / "nhsuk-frontend"
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    target.mkdir(parents=True)
    css = (nhsuk / "nhsuk-frontend.min.css").read_text(encoding="utf-8")
    css = FONT_FACE.sub("", css).replace("url(/assets/", "url(assets/")
    (target / "nhsuk-frontend.min.css").write_text(css, encoding="utf-8")
    shutil.copy(nhsuk / "nhsuk-frontend.min.js", target / "nhsuk-frontend.min.js")
    shutil.copytree(nhsuk / "assets", target / "assets")
    (VENDOR / "htmx").mkdir()
    shutil.copy(NODE / "htmx.org" / "dist" / "htmx.min.js", VENDOR / "htmx" / "htmx.min.js")
    (VENDOR / "axe-core").mkdir()
    shutil.copy(NODE / "axe-core" / "axe.min.js", VENDOR / "axe-core" / "axe.min.js")
    print(f"front-end assets copied to {VENDOR.relative_to(ROOT)}/")


if __name__ == "__main__":
    copy_assets()
