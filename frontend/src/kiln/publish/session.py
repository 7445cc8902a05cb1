"""A whole publish run: validate everything, consult the check URL, then upload file by file.

Nothing is sent to the upload URL unless every file passed validation and no file
conflicts with one already on the index. The caller is told about each step through
a ``Listener``; this module never prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from kiln.errors import KilnError
from kiln.publish.check import CheckedFile, check_file
from kiln.publish.credentials import Credentials
from kiln.publish.digests import file_digests
from kiln.publish.existing import Existing, lookup
from kiln.publish.files import DistFilename
from kiln.publish.form import form_fields
from kiln.publish.multipart import MultipartBody
from kiln.publish.redact import redact_url
from kiln.publish.transport import PublishClient
from kiln.publish.upload import RetryPolicy, UploadFailed, upload

DIGESTS = ("sha256", "blake2_256", "md5")

UPLOADED = "uploaded"
SKIPPED = "skipped"
FAILED = "failed"
CHECKED = "checked"  # dry run: would be uploaded
NOT_ATTEMPTED = "not attempted"


class Outcome(NamedTuple):
    dist: DistFilename
    status: str
    detail: str = ""
    hint: str | None = None


class Listener(Protocol):
    def uploading(self, dist: DistFilename, size: int) -> None: ...

    def progress(self, sent: int, total: int) -> None: ...

    def retrying(self, dist: DistFilename, attempt: int, delay: float, reason: str) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...


class PublishRequest(NamedTuple):
    files: Sequence[CheckedFile]
    #: Without userinfo; credentials travel separately.
    publish_url: str
    credentials: Credentials | None
    check_url: str | None = None
    check_credentials: Credentials | None = None
    dry_run: bool = False
    policy: RetryPolicy = RetryPolicy()  # immutable, so one shared default is safe


def validate(files: Sequence[DistFilename]) -> list[CheckedFile]:
    """Check every file; the caller refuses to go on when any has errors."""
    return [check_file(dist) for dist in files]


def publish(request: PublishRequest, listener: Listener) -> list[Outcome]:
    bad = [f.dist.filename for f in request.files if not f.ok or f.metadata is None]
    if bad:
        raise KilnError(f"refusing to publish files that failed validation: {', '.join(bad)}")
    client = PublishClient(request.policy.timeout)
    try:
        existing = _consult_check_url(client, request)
        outcomes: list[Outcome] = []
        stop: str | None = None
        for checked in request.files:
            dist = checked.dist
            if existing.get(dist.filename) is not None:
                outcome = Outcome(dist, SKIPPED, "the index already has this exact file")
            elif stop is not None:
                outcome = Outcome(dist, NOT_ATTEMPTED, stop)
            elif request.dry_run:
                outcome = Outcome(dist, CHECKED, "would be uploaded")
            else:
                outcome, refused = _upload_one(client, request, checked, listener)
                if refused:
                    stop = "stopped after the server refused the credentials"
            listener.finished(outcome)
            outcomes.append(outcome)
    finally:
        client.close()
    return outcomes


def _consult_check_url(client: PublishClient, request: PublishRequest) -> dict[str, Existing]:
    """Files the index already has, identical; any same-named but different file is an error."""
    if not request.check_url:
        return {}
    found: dict[str, Existing] = {}
    conflicts: list[str] = []
    for checked in request.files:
        state = lookup(client, request.check_url, checked.dist, request.check_credentials)
        if state.state == "same":
            found[checked.dist.filename] = state
        elif state.state == "different":
            conflicts.append(
                f"`{checked.dist.filename}`: the index has a different file of that name "
                f"(local {state.algorithm}={state.local}, index {state.algorithm}={state.remote})"
            )
    if conflicts:
        raise KilnError(
            f"{redact_url(request.check_url)} already has different files under these names; nothing was uploaded:\n"
            + "\n".join(f"  {line}" for line in conflicts),
            hint="a file name can never be reused on an index; bump the version, or add a build tag to wheels",
        )
    return found


def _upload_one(
    client: PublishClient, request: PublishRequest, checked: CheckedFile, listener: Listener
) -> tuple[Outcome, bool]:
    """The outcome, and whether the server refused the credentials (no point going on)."""
    dist = checked.dist
    assert checked.metadata is not None
    digests = file_digests(dist.path, DIGESTS)
    body = MultipartBody(form_fields(dist, checked.metadata, digests), "content", dist.path)
    listener.uploading(dist, body.size)
    try:
        upload(
            client, request.publish_url, body, request.credentials, request.policy,
            progress=listener.progress,
            on_retry=lambda attempt, delay, reason: listener.retrying(dist, attempt, delay, reason),
        )
    except UploadFailed as exc:
        if exc.status is not None and request.check_url:
            again = lookup(client, request.check_url, dist, request.check_credentials)
            if again.state == "same":  # e.g. an earlier attempt did land
                return Outcome(dist, UPLOADED, "the index has it now (an earlier attempt got through)"), False
        return Outcome(dist, FAILED, exc.message, exc.hint), exc.is_auth_failure
    return Outcome(dist, UPLOADED), False
