"""Running a real pypiserver on 127.0.0.1 for the tests that upload."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_pypiserver(
    root: Path, accounts: Mapping[str, str], *, authenticate: str, overwrite: bool = False
) -> Iterator[tuple[int, Path]]:
    """Start pypiserver over ``root/packages`` with ``accounts`` (user -> password) for the
    actions in ``authenticate`` (e.g. ``update``); yield its port and its package folder
    once it answers its health check, and stop it afterwards."""
    with warnings.catch_warnings():  # passlib imports the deprecated `crypt` module
        warnings.simplefilter("ignore", DeprecationWarning)
        from passlib.apache import HtpasswdFile  # type: ignore[import-untyped,unused-ignore]

    packages = root / "packages"
    packages.mkdir()
    htpasswd = HtpasswdFile(str(root / "htpasswd"), new=True)
    for user, password in accounts.items():
        htpasswd.set_password(user, password)
    htpasswd.save()
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "pypi-server"), "run", "-p", str(port), "-i", "127.0.0.1",
         *(["-o"] if overwrite else []), "-P", str(root / "htpasswd"), "-a", authenticate,
         "--disable-fallback", str(packages)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:  # not listening yet (URLError is an OSError)
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("pypiserver did not start")
            time.sleep(0.1)
        yield port, packages
    finally:
        process.terminate()
        process.wait(timeout=10)
