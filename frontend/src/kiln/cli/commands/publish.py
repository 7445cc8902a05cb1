"""`kiln publish`: upload wheels and sdists to an index through the legacy upload API."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kiln.cli.options import KEYRING_PROVIDERS
from kiln.cli.ui import UI
from kiln.errors import KilnError

if TYPE_CHECKING:
    from kiln.publish.check import CheckedFile
    from kiln.publish.files import DistFilename
    from kiln.publish.session import Outcome

NAME = "publish"
HELP = "upload distributions to an index"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="*", metavar="FILES",
        help="wheels and sdists to upload, as paths or glob patterns (default: `dist/*`)",
    )
    where = parser.add_argument_group("where to upload")
    url_or_index = where.add_mutually_exclusive_group()
    url_or_index.add_argument(
        "--publish-url", metavar="URL",
        help="the upload URL (legacy API; env `KILN_PUBLISH_URL`; default: PyPI's `https://upload.pypi.org/legacy/`)",
    )
    url_or_index.add_argument(
        "--index", metavar="NAME",
        help="upload to the `[[tool.kiln.index]]` (or `[[tool.uv.index]]`) called NAME, at its `publish-url` (env `KILN_PUBLISH_INDEX`)",
    )
    where.add_argument(
        "--check-url", metavar="URL",
        help="a simple index URL: skip files it already has with the same hash (env `KILN_PUBLISH_CHECK_URL`)",
    )
    auth = parser.add_argument_group("credentials")
    auth.add_argument("-t", "--token", metavar="TOKEN", help="an API token (user `__token__`; env `KILN_PUBLISH_TOKEN`)")
    auth.add_argument("-u", "--username", metavar="USER", help="user name (env `KILN_PUBLISH_USERNAME`)")
    auth.add_argument("-p", "--password", metavar="PASSWORD", help="password (env `KILN_PUBLISH_PASSWORD`)")
    auth.add_argument(
        "--keyring-provider", choices=KEYRING_PROVIDERS, default=None,
        help="where a missing password is asked: `subprocess` runs the `keyring` command, "
        "`disabled` asks no keyring, `auto` the `keyring` package if kiln's environment has it "
        "(env `KILN_KEYRING_PROVIDER`, else `UV_KEYRING_PROVIDER`; default: auto)",
    )
    auth.add_argument(
        "--non-interactive", action="store_true",
        help="never prompt for credentials",
    )
    auth.add_argument(
        "--trusted-publishing", choices=("automatic", "always", "never"), default="automatic",
        help="kiln cannot publish with OIDC trusted publishing yet: `automatic` and `never` "
        "use the other credentials, `always` is an error",
    )
    parser.add_argument(
        "--no-attestations", action="store_true",
        help="upload no PEP 740 attestations (kiln uploads none anyway)",
    )
    parser.add_argument(
        "--dry-run", action="store_true",
        help="validate and check everything, but upload nothing",
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    from kiln.cli.globalopts import project_dir
    from kiln.core.index.keyring import provider_from_env
    from kiln.publish.credentials import (
        CredentialOptions,
        check_url_credentials,
        resolve_credentials,
    )
    from kiln.publish.files import discover
    from kiln.publish.redact import redact_url, split_userinfo
    from kiln.publish.session import FAILED, PublishRequest, publish, validate
    from kiln.publish.target import resolve_target
    from kiln.publish.upload import RetryPolicy

    if args.trusted_publishing == "always":
        raise KilnError(
            "`--trusted-publishing always`: kiln cannot publish with trusted publishing (OIDC)",
            hint="create an API token for the index and pass it with `--token` or "
            "`KILN_PUBLISH_TOKEN`",
        )
    env = os.environ
    explicit = bool(args.publish_url or args.index)
    target = resolve_target(
        publish_url=args.publish_url or (None if explicit else env.get("KILN_PUBLISH_URL") or None),
        index=args.index or (None if explicit else env.get("KILN_PUBLISH_INDEX") or None),
        check_url=args.check_url or env.get("KILN_PUBLISH_CHECK_URL") or None,
        start=project_dir(args),
    )
    if args.offline and (not args.dry_run or target.check_url):
        raise KilnError(
            "`kiln publish` needs the network, and offline mode is on",
            hint="drop `--offline` (or use `--dry-run` without a check URL)",
        )
    policy = RetryPolicy.from_env()
    discovery = discover(args.files)
    for path, reason in discovery.ignored:
        ui.warning(f"skipping `{_display(path)}`: {reason}")
    checked = validate(discovery.files)
    _report_validation(checked, ui)

    keyring = args.keyring_provider or provider_from_env(env) or "auto"
    interactive = not args.non_interactive and not args.dry_run and _is_tty(sys.stdin) and _is_tty(ui.err)
    credentials = resolve_credentials(
        target.publish_url,
        CredentialOptions(
            token=args.token, username=args.username, password=args.password,
            index_name=target.index_name, keyring_provider=keyring,
            prompt=_prompt if interactive else None,
        ),
    )
    shown_url = redact_url(target.publish_url)
    if credentials is None and not args.dry_run:
        raise KilnError(
            f"no credentials for {shown_url}",
            hint="pass `--token` (or `--username` and `--password`), set `KILN_PUBLISH_TOKEN`, or add the host to `~/.netrc`",
        )
    if credentials is not None:
        ui.debug(f"credentials from {credentials.source} (user `{credentials.username}`)")
    check_url = split_userinfo(target.check_url)[0] if target.check_url else None
    check_credentials = (
        check_url_credentials(target.check_url, target.publish_url, credentials, target.index_name)
        if target.check_url else None
    )
    count = len(checked)
    noun = "file" if count == 1 else "files"
    if args.dry_run:
        ui.info(f"Checking {count} {noun} against {shown_url}")
    else:
        ui.info(f"Publishing {count} {noun} to {shown_url}")
    if check_url:
        ui.debug(f"checking for existing files at {redact_url(target.check_url or '')}")
    request = PublishRequest(
        files=checked, publish_url=split_userinfo(target.publish_url)[0],
        credentials=credentials, check_url=check_url, check_credentials=check_credentials,
        dry_run=args.dry_run, policy=policy,
    )
    outcomes = publish(request, _Reporter(ui))
    failed = sum(1 for o in outcomes if o.status == FAILED)
    ui.info(_summary(outcomes, args.dry_run))
    return 1 if failed else 0


def _report_validation(checked: list[CheckedFile], ui: UI) -> None:
    bad = 0
    for item in checked:
        for warning in item.warnings:
            ui.warning(f"`{item.dist.filename}`: {warning}")
        if item.errors:
            bad += 1
            lines = "\n".join(f"  - {error}" for error in item.errors)
            ui.error(f"`{_display(item.dist.path)}` cannot be published:\n{lines}")
    if bad:
        total = len(checked)
        raise KilnError(
            f"{bad} of {total} file{'s' if total != 1 else ''} failed validation; nothing was uploaded"
        )


class _Reporter:
    """Prints each step of the run; a progress bar on a terminal."""

    def __init__(self, ui: UI) -> None:
        self.ui = ui
        self.bar = _is_tty(ui.err) and ui.verbosity >= 0
        self.drawn = False
        self.shown = -1

    def uploading(self, dist: DistFilename, size: int) -> None:
        self.shown = -1
        self.ui.info(f"Uploading {dist.filename} ({format_size(size)})")

    def progress(self, sent: int, total: int) -> None:
        if not self.bar or total <= 0:
            return
        percent = 100 * sent // total
        if percent == self.shown:
            return
        self.shown = percent
        width = 30
        done = width * sent // total
        line = f"\r  [{'#' * done}{'.' * (width - done)}] {percent:3d}% {format_size(sent)}"
        self.ui.err.write(line)
        self.ui.err.flush()
        self.drawn = True

    def retrying(self, dist: DistFilename, attempt: int, delay: float, reason: str) -> None:
        self._clear()
        self.ui.warning(f"uploading `{dist.filename}` failed ({reason}); retrying in {delay:.1f}s (attempt {attempt + 1})")

    def finished(self, outcome: Outcome) -> None:
        from kiln.publish.session import CHECKED, FAILED, NOT_ATTEMPTED, SKIPPED

        self._clear()
        name = outcome.dist.filename
        if outcome.status == FAILED:
            self.ui.error(f"failed to upload `{name}`: {outcome.detail}", outcome.hint)
        elif outcome.status == SKIPPED:
            self.ui.info(f"Skipped {name}: {outcome.detail}")
        elif outcome.status == NOT_ATTEMPTED:
            self.ui.warning(f"not uploading `{name}`: {outcome.detail}")
        elif outcome.status == CHECKED:
            self.ui.info(f"Checked {name} ({format_size(outcome.dist.path.stat().st_size)})")
        else:
            extra = f" ({outcome.detail})" if outcome.detail else ""
            self.ui.info(f"Uploaded {name}{extra}")

    def _clear(self) -> None:
        if self.drawn:
            self.ui.err.write("\r\x1b[2K")
            self.ui.err.flush()
            self.drawn = False


def _summary(outcomes: list[Outcome], dry_run: bool) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    order = ("checked", "uploaded", "skipped", "failed", "not attempted")
    parts = [f"{counts[s]} {s}" for s in order if counts.get(s)]
    prefix = "Dry run, nothing uploaded: " if dry_run else ""
    return prefix + ", ".join(parts)


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size}B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f}{unit}"


def _prompt(question: str, secret: bool) -> str:
    import getpass

    if secret:
        return getpass.getpass(question, stream=sys.stderr)
    sys.stderr.write(question)
    sys.stderr.flush()
    return sys.stdin.readline().rstrip("\n")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
