"""The hub's operational logs: one line per HTTP request (``hub.access``), one per task
(``hub.tasks``), and security events as JSON lines (``hub.security``).

- Access lines: ``method path status duration_ms user=<id or ->``.  The query string is
  kept, but the value of every secret parameter (``access_token``, ``code``,
  ``password``, ``token``, ``api_key``, …) is replaced by ``[filtered]``.
- Task lines: ``task=<path> id=<id> outcome=<status> duration_ms=<ms>``.
- Security events: ``{"event": ..., "user_id": ..., ...}``, one JSON object per line, for
  sign-in success and failure, lockout (django-axes), permission denied (every 403) and
  staff reads of personal data (emitted by whoever records the read:
  ``logging.getLogger("hub.security").info(event, extra={"event": event, ...})``).

No secret reaches a line: ``RedactingFilter`` (on every handler) removes Authorization
values, bearer tokens and secret parameters from any record, and user input is escaped
(CR, LF and other control characters written as ``\\r``, ``\\n``, ``\\xNN``), so text
sent by a client can never start a forged line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from urllib.parse import parse_qsl, unquote_plus, urlencode

from django.contrib.auth import SESSION_KEY
from django.utils.functional import empty

access_logger = logging.getLogger("hub.access")
task_logger = logging.getLogger("hub.tasks")
security_logger = logging.getLogger("hub.security")

SECRET_PARAMS = frozenset({
    "access_token", "refresh_token", "id_token", "token", "code", "password",
    "password1", "password2", "oldpassword", "api_key", "client_secret", "secret",
    "code_verifier", "key", "otp", "csrfmiddlewaretoken",
})
FILTERED = "[filtered]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_SECRETS_IN_TEXT = [
    # Authorization: Bearer xxx / Token xxx / Basic xxx (headers dumped in a message)
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:bearer|token|basic)?\s*"
                r"[^\s\"',;]+"), r"\1" + FILTERED),
    (re.compile(r"(?i)\b(bearer|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + FILTERED),
    # name=value pairs of secret parameters in URLs, bodies, reprs
    (re.compile(r"(?i)\b(" + "|".join(sorted(SECRET_PARAMS - {"code", "key"}, key=len,
                                              reverse=True))
                + r")([\"']?\s*[=:]\s*[\"']?)[^&\s\"',;]+"), r"\1\2" + FILTERED),
]


def escape(text: object) -> str:
    """One line of text whatever it holds: control characters (CR, LF, tab, …) written
    as escapes, so a value sent by a client cannot end the line and forge the next."""
    value = str(text)
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _names_a_secret(query: str) -> bool:
    """Whether a parameter of the raw query string is one of ``SECRET_PARAMS`` (names
    decoded as ``parse_qsl`` would)."""
    for part in query.split("&"):
        name = part.split("=", 1)[0]
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name.lower() in SECRET_PARAMS:
            return True
    return False


def safe_path(request) -> str:
    """The path and query string, secret parameter values filtered, escaped."""
    path = request.path
    query = request.META.get("QUERY_STRING", "")
    if query and not _names_a_secret(query):
        # Nothing to filter (every public listing, every cached hit): the query as the
        # client sent it, without the parse and re-encode that the access log of a
        # surge would pay on each request.
        return escape(f"{path}?{query}")
    if query:
        pairs = [(name, FILTERED if name.lower() in SECRET_PARAMS else value)
                 for name, value in parse_qsl(query, keep_blank_values=True)]
        path = f"{path}?{urlencode(pairs, safe='[]/:')}"
    return escape(path)


class RedactingFilter(logging.Filter):
    """On every handler: the record's final message has secrets removed and control
    characters escaped (a traceback keeps its own line breaks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, as logging would
            return True
        cleaned = escape(redact(message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonLinesFormatter(logging.Formatter):
    """``hub.security``: the event and its fields as one JSON object (json escapes CR
    and LF; string values are redacted too)."""

    FIELDS = ("event", "user_id", "username", "ip", "method", "path", "status", "object",
              "subject_id", "reason", "attempts")

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "logger": record.name, "level": record.levelname,
                "event": getattr(record, "event", None) or record.getMessage()}
        for field in self.FIELDS[1:]:
            value = getattr(record, field, None)
            if value is not None:
                data[field] = redact(value) if isinstance(value, str) else value
        return json.dumps(data, ensure_ascii=False, default=str)


def security_event(event: str, *, request=None, level=logging.INFO, **fields) -> None:
    """Log one security event on ``hub.security`` (fields: user_id, username, object,
    subject_id, reason…)."""
    if request is not None:
        fields.setdefault("ip", request.META.get("REMOTE_ADDR", ""))
        fields.setdefault("method", request.method)
        fields.setdefault("path", safe_path(request))
        user_id = _user_id(request)
        if user_id != "-":
            fields.setdefault("user_id", int(user_id) if user_id.isdigit() else user_id)
    if "username" in fields:
        fields["username"] = escape(fields["username"])[:254]
    security_logger.log(level, event, extra={"event": event, **fields})


def _user_id(request) -> str:
    """The signed-in user's id, without a query of its own: a user the request never
    loaded is read from an already loaded session, else ``-``."""
    user = request.__dict__.get("user")
    if user is None:
        return "-"
    if getattr(user, "_wrapped", None) is empty:  # a lazy user nobody needed
        session = getattr(request, "session", None)
        cache = getattr(session, "_session_cache", None)
        return str(cache.get(SESSION_KEY, "-")) if isinstance(cache, dict) else "-"
    if getattr(user, "is_authenticated", False):
        return str(user.pk)
    return "-"


class AccessLogMiddleware:
    """First in the chain: one line per request, cached answers included; every 403 is
    also a ``permission_denied`` security event."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        duration = (time.monotonic() - started) * 1000
        path = safe_path(request)
        access_logger.info("%s %s %s %.1fms user=%s", escape(request.method), path,
                           response.status_code, duration, _user_id(request))
        if response.status_code == 403:
            security_event("permission_denied", request=request, level=logging.WARNING,
                           status=403)
        return response


# --- signal receivers (connected in hub.apps) -------------------------------------------

def on_logged_in(sender, request, user, **kwargs):
    security_event("sign_in_success", request=request, user_id=user.pk)


def on_login_failed(sender, credentials, request=None, **kwargs):
    username = ""
    for name in ("email", "username", "login"):
        if credentials.get(name):
            username = str(credentials[name])
            break
    security_event("sign_in_failure", request=request, level=logging.WARNING,
                   username=username)


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    security_event("lockout", request=request, level=logging.WARNING,
                   username=username or "", ip=ip_address)


def on_task_started(sender, task_result, **kwargs):
    _task_starts[task_result.id] = time.monotonic()


_task_starts: dict[str, float] = {}


def on_task_finished(sender, task_result, **kwargs):
    started = _task_starts.pop(task_result.id, None)
    if started is not None:
        duration = (time.monotonic() - started) * 1000
    else:
        begun, ended = (getattr(task_result, "started_at", None),
                        getattr(task_result, "finished_at", None))
        duration = (ended - begun).total_seconds() * 1000 if begun and ended else -1
    status = getattr(task_result.status, "value", task_result.status)
    task_logger.log(routine_level() if status == "SUCCESSFUL" else logging.INFO,
                    "task=%s id=%s outcome=%s duration_ms=%.1f",
                    escape(task_result.task.module_path), escape(task_result.id),
                    escape(status), duration)


def routine_level() -> int:
    """The level of routine lines (a task that succeeded, a periodic job enqueued): INFO
    in production, one line per task for operations; DEBUG in development (``DEBUG``, as
    in ``make run``), so the worker's console shows only what needs a look, and the
    emails it prints stand out (``LOG_LEVEL=DEBUG`` shows them all)."""
    from django.conf import settings

    return logging.DEBUG if settings.DEBUG else logging.INFO


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_login_failed
    from django_tasks.signals import task_finished, task_started

    user_logged_in.connect(on_logged_in, dispatch_uid="hub.logs.logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="hub.logs.login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="hub.logs.locked_out")
    task_started.connect(on_task_started, dispatch_uid="hub.logs.task_started")
    task_finished.connect(on_task_finished, dispatch_uid="hub.logs.task_finished")
