"""The web page and its JSON API (FastAPI); every asset is served from this package.

Routes
------
``GET /``                    the labeling page (one text at a time, keyboard first)
``GET /answers``             every answer so far, each one editable
``GET /api/state?wait=S``    what the page shows; waits up to S seconds (at most 30) for a text to answer
``POST /api/answer``         ``{"id", "labels": [...], "skipped": false, "seconds": 3.2}``: one answer,
                             on disk before the response (``labels`` is required, ``[]`` for none, unless
                             ``skipped`` is true: a skip keeps no labels, those sent with it are dropped;
                             ``seconds`` outside 0 to a day is stored as null)
``PUT /api/answers``         ``{"id", "labels": [...], "skipped": false, "expected": {"labels", "skipped"}}``:
                             change an answer (the id in the body, not the path: an id may hold ``/`` or be
                             ``.`` or ``..``); ``expected``, optional, is the answer as the sender saw it;
                             ``labels`` is required in both unless ``skipped`` is true
``GET /api/answers``         ``{"labels", "answers"}``: the session's labels and every answer, newest first

Every ``GET`` route answers ``HEAD`` too (headers alone: uptime checks, ``curl -I``).

Errors are HTTP 4xx with a one-line JSON ``detail``: 401 a missing or wrong
token, 403 a request to a loopback server under another host name, 404 an
unknown path or a text id the session does not have, 405 a method the path
does not take (its ``Allow`` header names those it does), 409 a text that is
not waiting for an answer or a change of an answer that changed since its
sender saw it, 422 an unknown label, a malformed body or a bad
query parameter.

Security: on a loopback address (the default) the server answers only
requests whose ``Host`` is ``localhost`` or a loopback IP address (no DNS
rebinding) and needs no token. On any other address every request needs the
session's token: the ``X-Token`` header, ``Authorization: Bearer TOKEN``, or
``?token=TOKEN`` once, which sets an HTTP-only cookie named for the server's
port (``al_token_8765``: two servers on one host keep their own) and
redirects to the address without it. Tokens are compared in constant time. A request that
changes answers (POST, PUT) must come from this server's own page (no other
``Origin``: 403; a reverse proxy's public address is named with ``origins``),
carry JSON (415 otherwise) and say its length (411), at most ``MAX_BODY_BYTES``
(413), so another site open in the same browser can neither post answers nor
flood the server; those checks apply to the routes that take the request's
method (any other gets its 404 or 405 first). Pages may not be framed.
"""
from __future__ import annotations

import hmac
import html
import ipaddress
import re
from pathlib import Path
from typing import Any, ClassVar, Sequence
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from al.annotate.session import Session, UnknownTextError
from al.config import console_spelling
from al.errors import ALError, AnswerChangedError, NotAskedError, NotPendingError, UnknownLabelError

HERE = Path(__file__).resolve().parent
#: The token cookie's name; a server given its port adds it (``al_token_8765``), as a cookie is the host's, any port.
TOKEN_COOKIE = "al_token"
#: Largest body a request may carry; an answer is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
#: Headers on every response: nothing cached, no sniffing, no referrer, never framed.
SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                                               "form-action 'self'; base-uri 'none'"}
#: Number keys of the first ten labels, in order.
KEYS = "1234567890"


class SeenAnswer(BaseModel):
    """An answer's labels and skip: ``labels`` must be sent (``[]`` for none of the labels) unless ``skipped`` is
    true, so a body that forgot them is refused rather than stored as a text with no label; ``skipped`` is a JSON
    boolean (``"no"`` is refused, not read as false)."""
    model_config = ConfigDict(extra="forbid")
    #: What a body without labels (or with null) is told.
    labels_missing: ClassVar[str] = ('labels is missing or null: send [] for none of the labels, or "skipped": true '
                                     'to skip the text')

    labels: list[str] | None = Field(default=None, max_length=1000)
    skipped: StrictBool = False

    @model_validator(mode="after")
    def _labels_or_skip(self) -> "SeenAnswer":
        if self.labels is None:
            if not self.skipped:
                raise PydanticCustomError("labels_missing", self.labels_missing)
            self.labels = []
        return self


class ExpectedAnswer(SeenAnswer):
    """An edit's ``expected``: the answer as its sender last saw it."""
    labels_missing: ClassVar[str] = ('labels is missing or null: the labels of the answer as you last saw it, [] for '
                                     'none ("skipped": true for a skip)')


class AnswerBody(SeenAnswer):
    id: str  # as long as the data file's ids (the body's length is capped: MAX_BODY_BYTES)
    seconds: float | None = None


class EditBody(SeenAnswer):
    id: str
    expected: ExpectedAnswer | None = None  # the answer as the sender saw it: refused (409) if it changed since


def token_cookie(port: int | None) -> str:
    """Name of the token cookie of a server on ``port`` (``al_token_8765``; ``al_token`` when not known)."""
    return TOKEN_COOKIE if port is None else f"{TOKEN_COOKIE}_{int(port)}"


def name_parts(name: str) -> list[str]:
    """``medical_help`` as ``["medical_", "help"]``: a label's name cut after each ``_``, ``-``, ``/`` or ``.``, where
    the page may wrap it (``<wbr>``) rather than mid-word (``medical_he`` / ``lp``)."""
    return [part for part in re.split(r"(?<=[_\-/.])", name) if part]


def is_loopback(host: str) -> bool:
    """``localhost``, or a loopback IP address (127.0.0.0/8, ::1, bracketed or not); never another DNS name."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") and host.endswith("]") else host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _origin(url: str) -> str:
    """``scheme://host[:port]`` in lower case, without a default port, as a browser's ``Origin`` says it."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    host = f"[{host}]" if ":" in host else host
    default = port is None or (scheme, port) in (("http", 80), ("https", 443))
    return f"{scheme}://{host}" + ("" if default else f":{port}")


def _refused_change(request: Request, origins: frozenset[str] = frozenset()) -> JSONResponse | None:
    """Why a POST or PUT is refused (another site's page, not JSON, no length or too long), or None.

    ``origins``: pages allowed besides this server's own, as ``scheme://host[:port]`` in lower case.
    """
    origin = request.headers.get("origin")
    if (origin is not None and urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()
            and _origin(origin) not in origins):
        return JSONResponse({"detail": f"a change from another page ({_one_line(origin)[:100]}) is refused; "
                                       f"answer on this server's own page"}, status_code=403)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return JSONResponse({"detail": "expected a JSON body with Content-Type: application/json"}, status_code=415)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        return JSONResponse({"detail": f"expected a body of at most {MAX_BODY_BYTES} bytes with its "
                                       f"Content-Length, got {_one_line(length)[:20] or 'no length'}"},
                            status_code=413 if length.isdigit() else 411)
    return None


def _loopback_url(request: Request, port: int | None) -> str:
    """The address a loopback server answers on, e.g. ``http://127.0.0.1:8765/``: the port it was given, else the
    one the request arrived on (``scope["server"]``: the listening socket's), and its own loopback address."""
    server = request.scope.get("server") or (None, None)
    host = server[0] if isinstance(server[0], str) and is_loopback(server[0]) else "127.0.0.1"
    port = port if port is not None else server[1]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/" if isinstance(port, int) else f"the address printed at start (on {host})"


def _methods(route: Any) -> set[str]:
    """The methods a route takes: its own, or GET and HEAD for a mounted folder of files (the page's assets)."""
    return set(getattr(route, "methods", None) or ("GET", "HEAD"))


def _allowed(app: Any, request: Request) -> list[str]:
    """The methods the routes of ``app`` take at the request's path (none: no such path)."""
    scope = request.scope  # as the app got it (inside a mount, its root_path is the mount's)
    scope = {**scope, "root_path": scope.get("app_root_path", scope.get("root_path", ""))}
    return sorted({m for route in app.router.routes if route.matches(scope)[0] != Match.NONE
                   for m in _methods(route)})


def _routed(app: Any, request: Request) -> bool:
    """Whether a route of ``app`` takes the request's path and method (else routing answers 404 or 405)."""
    return request.method in _allowed(app, request)


def invalid_request(errors: Sequence[Any]) -> str:
    """What a request FastAPI could not take got wrong, in words: a body that is not JSON, a bad query
    parameter, or the body's fields (with an example of a good body)."""
    parts, body = [], False
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error") or error.get("msg", "invalid")
            return f"the body is not valid JSON: {reason}; expected JSON such as {EXAMPLE_BODY}"
        if loc[:1] == ["query"]:
            name = ".".join(loc[1:])
            hint = QUERY_HINTS.get(name)
            parts.append(f"query parameter {name}={_one_line(str(error.get('input')))[:40]!r} is not valid "
                         f"({error.get('msg', 'invalid')})" + (f"; {name} is {hint}" if hint else ""))
            continue
        body = True
        where = ".".join(p for p in loc if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    if not body:
        return "; ".join(parts)
    return "malformed request: " + "; ".join(parts) + f" (expected JSON such as {EXAMPLE_BODY})"


#: A good answer's body, as messages show it.
EXAMPLE_BODY = '{"id": "12", "labels": ["a"]}'
#: What each query parameter is, as a message about a bad value says.
QUERY_HINTS = {"wait": "the seconds to wait for a text, a number such as ?wait=10"}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _refused(request: Request, detail: str, status_code: int) -> Response:
    """A refusal: JSON ``{"detail": ...}``, or, to a browser opening a page (a GET of no ``/api/`` path that
    accepts HTML), the same words as a page, so that a person does not read a JSON object."""
    wants_page = (request.method == "GET" and not request.url.path.startswith("/api/")
                  and "text/html" in request.headers.get("accept", ""))
    if not wants_page:
        return JSONResponse({"detail": detail}, status_code=status_code)
    words = html.escape(detail[0].upper() + detail[1:])
    return HTMLResponse(f"<!doctype html><html lang=en><meta charset=utf-8><title>Not served</title>"
                        f"<body><p>{words}.</p></body></html>", status_code=status_code)


def create_app(session: Session, *, token: str | None = None, loopback: bool = True,
               origins: Sequence[str] = (), port: int | None = None) -> FastAPI:
    """The app serving ``session``.

    Parameters
    ----------
    session : Session
        Opened (and usually started).
    token : str, optional
        Required on every request when given (see the module docstring).
    loopback : bool
        The server listens on a loopback address: refuse other ``Host`` names.
    origins : sequence of str
        Pages besides the server's own that may change answers, e.g. a reverse
        proxy's ``https://label.example.org`` (its requests reach this server
        with the server's own ``Host`` but the proxy's ``Origin``).
    port : int, optional
        The port the server listens on: names the token cookie (:func:`token_cookie`).
    """
    if token is not None and not token:
        raise ValueError("an empty token would let every request in; give a token, or None for none")
    allowed_origins = frozenset(_origin(o) for o in origins)
    # the host names --origin gives: a reverse proxy that passes the public Host on (Caddy does) is let through; a
    # page whose name was rebound to this address sends its own name, never one of these
    proxied_hosts = frozenset((urlsplit(o).hostname or "").lower() for o in allowed_origins) - {""}
    cookie = token_cookie(port)
    app = FastAPI(title="al annotate", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def refused(request: Request) -> Response | None:
        """The answer to a request turned away before routing (403 for another host, then 401 without the
        token, then 403, 411, 413, 415 for a change) or the token's redirect (303); None for a request to route."""
        host = _host_name(request.headers.get("host", ""))
        if loopback and not is_loopback(host) and host.lower().strip("[]") not in proxied_hosts:
            proxy = (f" (behind a proxy for {', '.join(sorted(allowed_origins))}: have it pass that public Host on, "
                     f"or the server's own, e.g. nginx's proxy_set_header Host 127.0.0.1:{port})"
                     if allowed_origins and port else "")
            return _refused(request, f"this server answers on its loopback address only, not "
                                     f"{_one_line(request.headers.get('host', 'no host'))[:100]!r}; open "
                                     f"{_loopback_url(request, port)}{proxy}", 403)
        if token is not None:
            bearer = request.headers.get("authorization", "")
            query = request.query_params.get("token")
            given = (request.headers.get("x-token") or (bearer[7:] if bearer.lower().startswith("bearer ") else None)
                     or query or request.cookies.get(cookie) or "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _refused(request, "missing or wrong token; open the address printed at start (it ends in "
                                         "?token=...)", 401)
            if query is not None and request.method == "GET":
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                # one leading slash: //host/ or /\host/ would send the browser to another site
                target = "/" + request.url.path.lstrip("/\\") + ("?" + urlencode(rest) if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(cookie, token, httponly=True, samesite="strict")
                return response
        if request.method not in ("GET", "HEAD") and _routed(app, request):  # after the token: no route is
            return _refused_change(request, allowed_origins)                  # described to a caller without it
        return None

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        response = refused(request)
        if response is None:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():  # on every response, those refused early too
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(UnknownLabelError)
    async def unknown_label(request: Request, exc: UnknownLabelError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    @app.exception_handler(NotPendingError)
    async def not_pending(request: Request, exc: NotPendingError) -> JSONResponse:
        # not_asked: the page keeps the answer's ticks for when the text is asked (a restarted server computing)
        reason = {"reason": "not_asked"} if isinstance(exc, NotAskedError) else {}
        return JSONResponse({"detail": _one_line(exc), **reason}, status_code=409)

    @app.exception_handler(AnswerChangedError)
    async def changed_meanwhile(request: Request, exc: AnswerChangedError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=409)

    @app.exception_handler(UnknownTextError)
    async def unknown_text(request: Request, exc: UnknownTextError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=404)

    @app.exception_handler(ALError)
    async def bad_request(request: Request, exc: ALError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=400)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(invalid_request(exc.errors()))}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail, headers = exc.detail, exc.headers
        if exc.status_code == 405:  # the methods of every route of the path (routing names the first one's only)
            allowed = _allowed(app, request)
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
            detail = (f"{request.method} is not a method of {request.url.path}; it takes {', '.join(allowed)}")
        return JSONResponse({"detail": _one_line(detail)}, status_code=exc.status_code, headers=headers)

    def page_context(request: Request) -> dict[str, Any]:
        labels = [{"name": name, "key": KEYS[j] if j < len(KEYS) else None, "parts": name_parts(name)}
                  for j, name in enumerate(session.label_names)]
        return {"request": request, "labels": labels, "name": Path(session.options.data_path).name,
                "guidelines": session.options.guidelines, "budget": session.config.budget,
                "n_batches": session.config.n_rounds - 1,
                "strategy": session.config.strategy.label(console_spelling)}

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "index.html", page_context(request))

    @app.api_route("/answers", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def answers_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "answers.html", page_context(request))

    @app.api_route("/api/state", methods=["GET", "HEAD"])
    def state(wait: float = 0.0) -> dict[str, Any]:
        return session.state(wait=min(max(wait, 0.0), 30.0))

    @app.post("/api/answer")
    def answer(body: AnswerBody) -> dict[str, Any]:
        stored = session.annotator.answer(body.id, body.labels, body.skipped, body.seconds)
        return {"answer": stored.to_dict(), "state": session.state()}

    @app.put("/api/answers")
    def edit(body: EditBody) -> dict[str, Any]:
        seen = None if body.expected is None else (body.expected.labels, body.expected.skipped)
        stored = session.annotator.edit(body.id, body.labels, body.skipped, expected=seen)
        return {"answer": stored.to_dict(), "state": session.state()}

    @app.api_route("/api/answers", methods=["GET", "HEAD"])
    def answers() -> dict[str, Any]:
        return {"labels": list(session.label_names), "answers": session.answers()}

    return app
