"""Text responses (pages, htmx fragments, JSON, CSV downloads) compressed with brotli or gzip.

Flask-Compress picks the encoding from `Accept-Encoding` (brotli first, then gzip) and adds
`Accept-Encoding` to `Vary` beside what the page already varies on (`HX-Request`, `HX-Target`).
Left alone: bodies under 500 bytes (the saving is smaller than the work), streamed responses,
anything not text (Excel workbooks are zip files already), and anything but a 2xx (so a 304 stays
empty). A strong ETag gets the encoding appended (`"abc:gzip"`) and conditional requests are
answered against it. Static files never get here: WhiteNoise serves their pre-compressed copies.
"""

from flask import Flask
from flask_compress import Compress

SETTINGS = {
    "COMPRESS_MIMETYPES": ["text/html", "text/csv", "text/plain", "application/json", "text/css",
                           "text/javascript", "image/svg+xml"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_LEVEL": 6,  # gzip: most of level 9's saving at a fraction of its time
    "COMPRESS_BR_LEVEL": 4,  # brotli: about gzip 6's speed, smaller output
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_STREAMS": False,
}


def init_app(app: Flask) -> None:
    for name, value in SETTINGS.items():
        app.config.setdefault(name, value)
    # One Compress per app: it keeps the settings it was built with, and tests build many apps.
    app.extensions["compress"] = Compress(app)
