"""One upload through the legacy API, retried on network faults and 5xx answers.

Retries back off exponentially from ``KILN_PUBLISH_RETRY_DELAY`` seconds (default 1),
at most ``KILN_PUBLISH_RETRIES`` times (default 3). Redirects are not followed: the
upload URL is reported instead, since a redirected POST may lose its body or its
credentials.
"""

from __future__ import annotations

import html
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from kiln.errors import KilnError
from kiln.publish.credentials import Credentials
from kiln.publish.multipart import MultipartBody, Progress
from kiln.publish.redact import redact_url, scrub
from kiln.publish.transport import PublishClient, Response, TransportError

_ACCEPT = "application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7"
_MAX_DELAY = 30.0

#: ``on_retry(attempt, delay, reason)`` before sleeping and trying again.
RetryHook = Callable[[int, float, str], None]


class RetryPolicy(NamedTuple):
    retries: int = 3
    delay: float = 1.0
    timeout: float = 300.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetryPolicy:
        env = os.environ if environ is None else environ
        return cls(
            retries=max(0, int(_number(env, "KILN_PUBLISH_RETRIES", 3))),
            delay=max(0.0, _number(env, "KILN_PUBLISH_RETRY_DELAY", 1.0)),
            timeout=max(1.0, _number(env, "KILN_PUBLISH_TIMEOUT", 300.0)),
        )

    def backoff(self, attempt: int) -> float:
        return min(self.delay * 2.0 ** (attempt - 1), _MAX_DELAY)


class UploadFailed(Exception):
    """The upload was refused or could not be sent; ``message`` says why, without secrets."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.hint = hint

    @property
    def is_auth_failure(self) -> bool:
        return self.status in (401, 403)


def upload(
    client: PublishClient,
    url: str,
    body: MultipartBody,
    credentials: Credentials | None,
    policy: RetryPolicy,
    *,
    progress: Progress | None = None,
    on_retry: RetryHook | None = None,
) -> None:
    """POST ``body`` to ``url`` (without userinfo); raise ``UploadFailed`` unless it is accepted."""
    secrets = [credentials.password] if credentials else []
    headers = {
        "Accept": _ACCEPT,
        "Content-Type": body.content_type,
        "Content-Length": str(body.length),
    }
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.post(url, body.chunks(progress), headers, credentials)
        except TransportError as exc:
            reason = scrub(str(exc) or type(exc).__name__, secrets)
            if attempt > policy.retries:
                raise UploadFailed(
                    f"could not reach {redact_url(url)} ({reason}), gave up after {attempt} attempts"
                ) from None
            _wait(policy, attempt, reason, on_retry)
            continue
        if response.status_code >= 500 and attempt <= policy.retries:
            _wait(policy, attempt, f"{response.status_code} {response.reason_phrase}", on_retry)
            continue
        if 200 <= response.status_code < 300:
            return
        raise explain(response, url, secrets)


def _wait(policy: RetryPolicy, attempt: int, reason: str, on_retry: RetryHook | None) -> None:
    delay = policy.backoff(attempt)
    if on_retry is not None:
        on_retry(attempt, delay, reason)
    time.sleep(delay)


def explain(response: Response, url: str, secrets: list[str]) -> UploadFailed:
    """Turn a refused upload into a message that says what the server meant."""
    status = response.status_code
    said = scrub(server_message(response), secrets)
    line = f"the server answered {status} {response.reason_phrase}".rstrip()
    if said:
        line += f": {said}"
    shown = redact_url(url)
    if 300 <= status < 400:
        location = redact_url(response.headers.get("location", "?"))
        return UploadFailed(
            f"{line}\nthe upload URL {shown} redirects to {location}",
            status=status,
            hint="pass the final URL as `--publish-url` (uploads are not redirected)",
        )
    if status in (401, 403):
        return UploadFailed(
            line, status=status,
            hint="the credentials are wrong, or this user may not upload to this project; check the user name (`__token__` for API tokens) and the password or token",
        )
    if status in (404, 405):
        return UploadFailed(
            line, status=status,
            hint=f"{shown} does not accept uploads; is it the simple index URL rather than the upload URL (e.g. `https://upload.pypi.org/legacy/`)?",
        )
    if status in (400, 409):
        return UploadFailed(
            line, status=status,
            hint="the file may already exist on the index (file names can never be reused); with `--check-url` kiln skips files the index already has",
        )
    if status == 413:
        return UploadFailed(line, status=status, hint="the file is larger than the index allows")
    return UploadFailed(line, status=status)


def server_message(response: Response) -> str:
    """The server's own explanation: a JSON ``message``/``detail``/``code``, else the text."""
    try:
        text = response.text
    except LookupError:  # an unknown charset
        return ""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "detail", "code", "error"):
                if isinstance(data.get(key), str) and data[key].strip():
                    return _tidy(data[key])
    if "html" in content_type or text.lstrip().startswith("<"):
        text = re.sub(r"(?is)<(script|style|title|head)\b.*?</\1>", " ", text)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return _tidy(text)


def _tidy(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    value = env.get(key)
    if value is None or not value.strip():
        return default
    try:
        return float(value)
    except ValueError:
        raise KilnError(f"`{key}` must be a number of seconds or attempts, not `{value}`") from None
