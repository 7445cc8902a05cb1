#!/usr/bin/env python3
"""Time locking and syncing a project from PyPI: `kiln` and `uv` side by side.

The project is what issue #18 names: an application depending on fastapi, httpx, pydantic and
rich (about 20 locked packages), `requires-python = ">=3.11"`, with no `[build-system]` (a
virtual project, as `uv init --app` makes it). Each command is timed in a fresh process in a
fresh copy of the project:

* ``kiln lock`` and ``uv lock`` with no lockfile yet (a universal resolution);
* ``kiln lock`` and ``uv lock`` again, with the lockfile the tool wrote (nothing to do);
* ``kiln sync`` and ``uv sync`` with the tool's lockfile and no ``.venv`` yet (the
  environment is made and every locked package installed from the warm cache);
* ``kiln sync`` and ``uv sync`` again, in the environment the tool synced (nothing to do).

Two reference rows show what any CPython program pays for a fresh sync, whatever its
design: ``python -c pass`` (the interpreter's start), and the *link floor*, a bare script
that starts the same interpreter, makes the skeleton of a virtual environment and hard-links
every file of the wheels kiln's cache holds unpacked for this project into it (no lock read,
no checks, no RECORD, no activation scripts). They need the ``kiln`` rows, whose warm-up
round fills that cache.

Each ratio compares a kiln step (or a reference row) with the same step done by uv.

Every tool has its own cache directory in a scratch directory; the untimed warm-up round fills
it, so the timed rounds run with warm caches. Needs the network.

Usage: python benchmarks/project.py [--rounds N] [--tools kiln,uv] [--write]
See benchmarks/README.md.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from toolbench import (
    Variant,
    bench_env,
    benchmark_parser,
    kiln_command,
    markdown_report,
    measure,
    parse_checked,
    publish,
    tool_paths,
    version_of,
)

TOOLS = ("kiln", "uv")
BASELINE = "uv-lock"
BLOCK = "project-results"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["fastapi", "httpx", "pydantic", "rich"]
"""

#: The link floor (see the module's docstring): argv[1] holds unpacked wheel trees, each
#: linked into the site-packages of the skeleton environment argv[2].
LINK_FLOOR = """\
import os, sys
trees, env = sys.argv[1], sys.argv[2]
site = os.path.join(env, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
os.makedirs(site)
os.makedirs(os.path.join(env, "bin"))
os.symlink(sys.executable, os.path.join(env, "bin", "python"))
with open(os.path.join(env, "pyvenv.cfg"), "w") as handle:
    handle.write("home = %s\\n" % os.path.dirname(sys.executable))
for tree in os.listdir(trees):
    source = os.path.join(trees, tree)
    for folder, _, files in os.walk(source):
        target = os.path.join(site, os.path.relpath(folder, source))
        os.makedirs(target, exist_ok=True)
        for name in files:
            os.link(os.path.join(folder, name), os.path.join(target, name))
"""

#: The file each tool locks into.
LOCKFILES = {"kiln": "pylock.toml", "uv": "uv.lock"}


def _count_packages(lockfile: Path) -> int:
    """Packages of a lockfile (``packages`` of a ``pylock.toml``, ``package`` of a
    ``uv.lock``), the project itself left out."""
    import tomllib

    try:
        data = tomllib.loads(lockfile.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    entries = data.get("packages", data.get("package", []))
    return sum(1 for entry in entries if entry.get("name") != "demo")


def variants(python: str, tools: Sequence[str], env: Mapping[str, str]) -> list[Variant]:
    paths = tool_paths(python)
    commands = {
        "kiln": lambda d: [*kiln_command(python), "lock", "--quiet"],
        "uv": lambda d: [paths["uv"], "lock", "--quiet", "--python", python],
    }
    syncs = {
        "kiln": lambda d: [*kiln_command(python), "sync", "--quiet", "--python", python],
        "uv": lambda d: [paths["uv"], "sync", "--quiet", "--python", python],
    }

    def fresh(directory: Path) -> None:
        (directory / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")

    def locked(tool: str) -> Callable[[Path], None]:
        def prepare(directory: Path) -> None:
            fresh(directory)
            subprocess.run(commands[tool](directory), cwd=directory, env=dict(env), check=True,
                           capture_output=True)
        return prepare

    def synced(tool: str) -> Callable[[Path], None]:
        def prepare(directory: Path) -> None:
            locked(tool)(directory)
            subprocess.run(syncs[tool](directory), cwd=directory, env=dict(env), check=True,
                           capture_output=True)
        return prepare

    def installed(directory: Path) -> int:
        """Distributions in the run's `.venv` (pip and the like are not seeded by either)."""
        return sum(1 for _ in (directory / ".venv").glob("lib/python*/site-packages/*.dist-info"))

    found: list[Variant] = []
    for tool in tools:
        lockfile = LOCKFILES[tool]
        found.append(Variant(
            f"{tool}-lock", tool, f"{tool} lock (no {lockfile} yet)", commands[tool],
            prepare=fresh, count=lambda d, name=lockfile: _count_packages(d / name),
        ))
    for tool in tools:
        found.append(Variant(
            f"{tool}-noop", tool, f"{tool} lock (up to date)", commands[tool],
            prepare=locked(tool),
            count=lambda d, name=LOCKFILES[tool]: _count_packages(d / name),
        ))
    for tool in tools:
        found.append(Variant(
            f"{tool}-sync", tool, f"{tool} sync (no .venv yet)", syncs[tool],
            prepare=locked(tool), count=installed,
        ))
    for tool in tools:
        found.append(Variant(
            f"{tool}-sync-noop", tool, f"{tool} sync (in sync)", syncs[tool],
            prepare=synced(tool), count=installed,
        ))
    if "kiln" in tools:
        trees = Path(env["KILN_CACHE_DIR"]) / "wheels-v1"
        found.append(Variant("python-start", "python", "python -c pass",
                             lambda d: [python, "-c", "pass"]))
        found.append(Variant(
            "python-link", "python", "python: link the files (floor)",
            lambda d: [python, "-c", LINK_FLOOR, str(trees), str(d / ".venv")],
            count=installed,
        ))
    return found


#: Each variant's ratio is taken against uv doing the same step.
PAIRS = {
    **{
        f"{tool}-{step}": f"uv-{step}"
        for tool in TOOLS for step in ("lock", "noop", "sync", "sync-noop")
    },
    "python-start": "uv-sync",
    "python-link": "uv-sync",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = benchmark_parser(
        __doc__, tools=TOOLS, default_tools=TOOLS,
        python_help="interpreter that runs kiln and that uv locks with",
    )
    args = parse_checked(parser, argv)
    with tempfile.TemporaryDirectory(prefix="kiln-bench-project-") as tmp:
        work = Path(tmp)
        env = bench_env({
            "KILN_CACHE_DIR": str(work / "cache" / "kiln"),
            "UV_CACHE_DIR": str(work / "cache" / "uv"),
        })
        chosen = variants(args.python, args.tools, env)
        results = measure(chosen, work, env, args.rounds, args.warmup, progress=not args.quiet)
        paths = tool_paths(args.python)
        asks = {"kiln": [*kiln_command(args.python), "--version"], "uv": [paths["uv"], "--version"]}
        versions = {tool: version_of(asks[tool], env) for tool in args.tools}
        versions["python"] = version_of([args.python, "--version"], env)
        shutil.rmtree(work / "runs", ignore_errors=True)
    settings = {
        "date": datetime.date.today().isoformat(),
        "project": "`fastapi`, `httpx`, `pydantic`, `rich`; `requires-python = \">=3.11\"`",
        "index": "PyPI (`https://pypi.org/simple`), over the network",
        "caches": "warm: each tool's own cache, filled by the warm-up round",
        "Python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rounds": f"{args.rounds} timed, {args.warmup} warm-up",
    }
    baseline = BASELINE if "uv" in args.tools else f"{args.tools[0]}-lock"
    report = markdown_report(results, chosen, versions, baseline, settings,
                             count_label="packages", pairs=PAIRS if "uv" in args.tools else None)
    return publish(report, results, args, BLOCK)


if __name__ == "__main__":
    sys.exit(main())
