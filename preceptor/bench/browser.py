"""Requests as one browser makes them: a session cookie, one User-Agent, and compression accepted.

flask-login's "strong" session protection ties a session to the User-Agent (and address), so
the load tools send exactly `HEADERS` with the cookie signed in here. Bodies are read as sent,
not decompressed, so their length is what crossed the wire.
"""

import http.client
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

USER_AGENT = "preceptor-bench/1 (make bench)"
HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, br", "Accept": "text/html,*/*"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # as sent: compressed when the server compressed it


class Browser:
    """One person's session against one server."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Every header a request from this browser carries."""
        headers = dict(HEADERS)
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        return headers | (extra or {})

    def request(self, method: str, path: str, *, extra: dict[str, str] | None = None, form: dict | None = None,
                keep_cookies: bool = True) -> Response:
        headers = self.headers(extra)
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            response = Response(answer.status, answer.headers, answer.read())
        finally:
            connection.close()
        if keep_cookies:
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value:
                        self.cookies[name] = morsel.value
                    else:  # an emptied cookie is a deleted one
                        self.cookies.pop(name, None)
        return response

    def get(self, path: str, extra: dict[str, str] | None = None, keep_cookies: bool = True) -> Response:
        return self.request("GET", path, extra=extra, keep_cookies=keep_cookies)

    def sign_in(self, email: str, password: str) -> None:
        """Sign in through the real form (with its CSRF token); raise if the portal refuses."""
        # Uncompressed, to read the token; the session does not depend on Accept-Encoding.
        page = self.get("/sign-in", extra={"Accept-Encoding": "identity"})
        match = CSRF_META.search(page.body.decode("utf-8", "replace"))
        if page.status != 200 or not match:
            raise RuntimeError(f"the sign-in page answered {page.status} without a CSRF token")
        answer = self.request("POST", "/sign-in", form={"email": email, "password": password,
                                                        "csrf_token": match.group(1), "next": ""})
        if answer.status != 302:
            raise RuntimeError(f"signing in as {email} failed (HTTP {answer.status})")

