"""Static files: served by WhiteNoise under content-hashed names, cached for a year.

`url_for('static', filename='css/app.css')` gives `/static/css/app.<12 hex>.css`, where the hex is
the start of the file's SHA-256: that URL is served with `Cache-Control: public, max-age=31536000,
immutable`, because new content always gets a new URL. The plain URL still works with a one-minute
cache and an ETag, for old pages and for the files that CSS and JavaScript name relatively (the
NHS.UK stylesheet's images, the modules `app.js` imports): those are not rewritten, so they are
revalidated (a 304) once the minute is up.

Gzip and brotli copies (`file.css.gz`, `file.css.br`) are written at set-up by `precompress()`
(`python -m preceptor.vendor`) with the source's modification time; a copy is served to clients that
accept its encoding (with `Vary: Accept-Encoding`) only while that time still matches, so a file
edited after set-up is served uncompressed rather than stale.

In production the files, their hashes and copies are read once at start. Under `flask run --debug`
each request and each `url_for` looks at the disk (hashes are cached by size and modification
time), so an edited `app.css` gets a new URL on the next page load.
"""

import gzip
import hashlib
import os
import re
from pathlib import Path
from stat import S_ISREG
from wsgiref.headers import Headers

import brotli
from flask import Flask, abort
from whitenoise import WhiteNoise
from whitenoise.responders import MissingFileError, StaticFile
from whitenoise.string_utils import decode_path_info

HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
HASHED_NAME = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{HASH_LENGTH}}})(?P<suffix>\.[^./]+)?$")
# Text formats worth compressing; images other than SVG and icons are compressed already.
COMPRESSIBLE = {".css", ".js", ".mjs", ".json", ".map", ".svg", ".ico", ".txt", ".html", ".xml"}
VARIANTS = {"br": ".br", "gzip": ".gz"}

# Content hashes for the life of the process, keyed by path and checked against size and
# modification time: the test suite builds an app per test, and debug mode asks on every page.
_digests: dict[str, tuple[int, int, str]] = {}


def content_hash(path: str, stat: os.stat_result | None = None) -> str:
    stat = stat or os.stat(path)
    cached = _digests.get(path)
    if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]
    _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def hashed_name(name: str, digest: str) -> str:
    """`css/app.css` -> `css/app.<digest>.css`."""
    folder, _, base = name.rpartition("/")
    stem, suffix = os.path.splitext(base)
    return f"{folder}/{stem}.{digest}{suffix}" if folder else f"{stem}.{digest}{suffix}"


def unhashed(name: str) -> tuple[str, str | None]:
    """`css/app.<digest>.css` -> (`css/app.css`, digest); any other name -> (name, None)."""
    folder, slash, base = name.rpartition("/")
    match = HASHED_NAME.match(base)
    if not match:
        return name, None
    return folder + slash + match["stem"] + (match["suffix"] or ""), match["digest"]


def fresh_variants(path: str, stat: os.stat_result) -> dict[str, str]:
    """The compressed copies of `path` written from its current content (same modification time)."""
    variants = {}
    for encoding, suffix in VARIANTS.items():
        try:
            if os.stat(path + suffix).st_mtime_ns == stat.st_mtime_ns:
                variants[encoding] = path + suffix
        except OSError:
            continue
    return variants


def precompress(root: Path) -> int:
    """Write `.br` and `.gz` copies beside each text file under `root` that lacks fresh ones;
    returns how many files were compressed. A copy that saves under 5% is not kept."""
    done = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in COMPRESSIBLE):
        stat = path.stat()
        if len(fresh_variants(str(path), stat)) == len(VARIANTS):
            continue
        data = path.read_bytes()
        for suffix, packed in ((".br", brotli.compress(data)), (".gz", gzip.compress(data, 9, mtime=0))):
            target = path.with_name(path.name + suffix)
            if len(packed) > 0.95 * len(data):
                target.unlink(missing_ok=True)
                continue
            # Written aside and renamed, so a server reading meanwhile sees the old copy or the new.
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(packed)
            os.utime(partial, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            partial.replace(target)
        done += 1
    return done


def hidden(url: str) -> bool:
    """Set-up stamps (`.copied`), editor and OS files, half-written copies: never served."""
    return any(part.startswith(".") for part in url.split("/")) or url.endswith(".partial")


class StaticFiles(WhiteNoise):
    """WhiteNoise over one folder, also answering at each file's content-hashed name."""

    def __init__(self, application, root: str, prefix: str, *, autorefresh: bool):
        self.prefix = "/" + prefix.strip("/") + "/"
        self.manifest: dict[str, str] = {}  # "css/app.css" -> "css/app.<digest>.css" (production)
        super().__init__(application, autorefresh=autorefresh, max_age=None, allow_all_origins=False)
        self.root = os.path.abspath(root)
        self.add_files(self.root, self.prefix)

    def hashed(self, name: str) -> str:
        """The name to put in a URL for the file `name` (unchanged if no such file)."""
        if not self.autorefresh:
            return self.manifest.get(name, name)
        path = os.path.join(self.root, name)
        canonical = self.url_is_canonical(self.prefix + name)
        if not canonical or not os.path.isfile(path) or self.is_compressed_variant(path):
            return name
        return hashed_name(name, content_hash(path))

    def __call__(self, environ, start_response):
        path = decode_path_info(environ.get("PATH_INFO", ""))
        if self.autorefresh:
            static_file = self.find_file(path)
        else:
            # A hash this server does not know (a page from another release) gets today's file,
            # with the short cache.
            static_file = self.files.get(path) or self.files.get(unhashed(path)[0])
        if static_file is None:
            return self.application(environ, start_response)
        return self.serve(static_file, environ, start_response)

    def add_file_to_dictionary(self, url, path, stat_cache=None):
        if self.is_compressed_variant(path, stat_cache) or hidden(url):  # variants go out in place of their source
            return
        name = url[len(self.prefix):]
        stat = stat_cache[path] if stat_cache else os.stat(path)
        hashed = hashed_name(name, content_hash(path, stat))
        self.manifest[name] = hashed
        for each in (url, self.prefix + hashed):
            self.files[each] = self.get_static_file(path, each, stat_cache=stat_cache)

    def find_file(self, url):
        if hidden(url):
            return None
        found = super().find_file(url)
        plain, digest = unhashed(url)
        if found is not None or digest is None or not self.url_is_canonical(url):
            return found
        for path in self.candidate_paths_for_url(plain):
            if os.path.isfile(path) and not self.is_compressed_variant(path):
                return self.get_static_file(path, url)
        return None

    def get_static_file(self, path, url, stat_cache=None):
        try:
            stat = stat_cache[path] if stat_cache else os.stat(path)
        except (KeyError, OSError) as missing:
            raise MissingFileError(path) from missing
        if not S_ISREG(stat.st_mode):
            raise MissingFileError(path)
        headers = Headers([])
        self.add_mime_headers(headers, path, url)
        headers["Cache-Control"] = IMMUTABLE if self.immutable_file_test(path, url) else SHORT
        headers["X-Content-Type-Options"] = "nosniff"  # pages get it from security.py; static files skip the app
        return StaticFile(path, headers.items(), encodings=fresh_variants(path, stat))

    def immutable_file_test(self, path, url):
        # Only the URL that names the file's current content may be cached for good.
        digest = unhashed(url[len(self.prefix):])[1]
        return digest is not None and digest == content_hash(path)


def init_app(app: Flask) -> None:
    """Serve `app.static_folder` through WhiteNoise and make `url_for('static', ...)` give hashed
    URLs. Debug mode re-reads the disk on every request; otherwise the folder is read once here."""
    if not app.static_folder or not app.static_url_path:
        return
    static = StaticFiles(app.wsgi_app, app.static_folder, app.static_url_path, autorefresh=app.debug)
    app.wsgi_app = static
    app.extensions["static_files"] = static

    def hashed_static_url(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = static.hashed(values["filename"])

    app.url_defaults(hashed_static_url)
    # WhiteNoise answers every file it serves before Flask sees the request; Flask's own static
    # view would serve the rest (stamps, compressed copies by their own names), so it answers 404.
    app.view_functions["static"] = _not_served


def _not_served(filename: str):
    abort(404)
