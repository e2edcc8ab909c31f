"""Copy the front-end packages from node_modules/ into static/vendor/ (the set-up step).

Run as `python -m preceptor.vendor` after `npm ci`. The NHS.UK stylesheet is rewritten on
the way: its asset URLs become relative to the copied file, and its web-font rules (which
point at an external host) are dropped so nothing loads from outside; text falls back to Arial.

Then every text file in static/ (these and the portal's own CSS and JavaScript) gets gzip and
brotli copies beside it, which WhiteNoise serves (see static_files.py). `python -m preceptor.vendor
compress` does only that: `make setup` runs it again when a file in static/css or static/js changes.
"""

import re
import shutil
import sys
from pathlib import Path

from .static_files import precompress

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
STATIC = ROOT / "static"
VENDOR = STATIC / "vendor"

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


def compress_static() -> None:
    count = precompress(STATIC)
    print(f"compressed copies written for {count} files in {STATIC.relative_to(ROOT)}/")


if __name__ == "__main__":
    if sys.argv[1:] != ["compress"]:
        copy_assets()
    compress_static()
