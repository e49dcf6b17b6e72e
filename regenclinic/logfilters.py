"""Keeps patients' link tokens out of the logs: Django's request and server logs, and gunicorn's access log.

A link's token is a key to a patient's pages until it is used (and a booking's for as
long as the appointment stands), so a log line must never carry it. Django logs every
4xx and 5xx answer with its path ("Not Found: /intake/<token>/"), and an access log
names each path: both go through `redact`, which asks the URL conf whether a path
carries a token and puts `[token]` in its place.
"""

import logging
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation
from gunicorn.glogging import Logger as GunicornBaseLogger

PATH = re.compile(r"/[^\s\"'?#]*")
MASK = "[token]"


def _path_without_token(path: str) -> str:
    # The URL conf reads a language's prefix (/es/) only while that language is active.
    language = next((code for code, _name in settings.LANGUAGES if path.startswith(f"/{code}/")), None)
    try:
        with translation.override(language or settings.LANGUAGE_CODE):
            token = resolve(path).kwargs.get("token")
    except Resolver404:
        return path
    except Exception:  # a log line must never fail; a path that cannot be read is no link's
        return path
    return path.replace(str(token), MASK) if token else path


def redact(text: str) -> str:
    """`text` with the token of every link path in it replaced by "[token]"."""
    return PATH.sub(lambda match: _path_without_token(match.group(0)), text)


class RedactLinkTokens(logging.Filter):
    """A logging filter (on django.request and django.server): the record's message, its tokens masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger (`--logger-class`), whose access-log path and request line never carry a token."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("U", "r"):
            if isinstance(atoms.get(name), str):
                atoms[name] = redact(atoms[name])
        referer = atoms.get("f")
        if isinstance(referer, str) and referer != "-":  # the page a visitor came from may be a link
            parts = urlsplit(referer)
            atoms["f"] = urlunsplit(parts._replace(path=_path_without_token(parts.path)))
        return atoms
