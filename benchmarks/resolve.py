#!/usr/bin/env python3
"""Time resolving a requirement set from PyPI: kiln, uv and pip side by side.

Each measurement runs one command in a fresh process that resolves the same root
requirements. ``--set web`` (the default) is a web application's eight roots (about 80
pinned packages), resolved for the interpreter given by ``--python``:

* ``kiln pip compile requirements.in -o requirements.txt``
* ``uv pip compile requirements.in -o requirements.txt``
* ``pip install --dry-run --ignore-installed --report report.json -r requirements.in``

``--set conflict`` is ``celery[redis]`` and ``black`` for Python 3.11, a set whose newest
versions conflict (``kombu[redis]`` pins ``packaging``, which ``black`` also requires), with
kiln and uv (``--python-version 3.11``; pip has no such option for a resolution).

Every tool has its own cache directory in a scratch directory; the untimed warm-up round
fills it, so timed rounds run with warm HTTP caches (``--cold`` empties the caches before
every run instead). Needs the network.

Usage: python benchmarks/resolve.py [--set web|conflict] [--rounds N] [--tools kiln,uv,pip]
                                    [--cold] [--write]
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolbench import (
    Variant,
    bench_env,
    benchmark_parser,
    count_pins,
    kiln_command,
    markdown_report,
    measure,
    parse_checked,
    publish,
    tool_paths,
    version_of,
)

ROOTS = (
    "fastapi[standard]",
    "uvicorn[standard]",
    "httpx[http2]",
    "sqlalchemy[asyncio]",
    "pydantic-settings",
    "jinja2",
    "rich",
    "celery[redis]",
)
TOOLS = ("kiln", "uv", "pip")
BASELINE = "kiln"


@dataclass(frozen=True)
class RequirementSet:
    roots: tuple[str, ...]
    #: The page block its table goes into (``-cold`` appended for ``--cold``).
    block: str
    #: ``--python-version`` for kiln and uv; None: the interpreter's own.
    python_version: str | None
    tools: tuple[str, ...]


SETS = {
    "web": RequirementSet(ROOTS, "resolve-results", None, TOOLS),
    "conflict": RequirementSet(
        ("celery[redis]", "black"), "resolve-conflict-results", "3.11", ("kiln", "uv")
    ),
}


def _count_report(path: Path) -> int:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return len(data.get("install", []))


def variants(
    python: str, requirements: Path, tools: Sequence[str], python_version: str | None = None
) -> list[Variant]:
    paths = tool_paths(python)
    req = str(requirements)
    target = [] if python_version is None else ["--python-version", python_version]
    shown = "" if python_version is None else f" --python-version {python_version}"
    table = {
        "kiln": Variant(
            "kiln", "kiln", f"kiln pip compile requirements.in{shown} -o requirements.txt",
            lambda d: [*kiln_command(python), "pip", "compile", req, *target,
                       "-o", str(d / "out.txt")],
            count=lambda d: count_pins(d / "out.txt"),
        ),
        "uv": Variant(
            "uv", "uv", f"uv pip compile requirements.in{shown} -o requirements.txt",
            lambda d: [paths["uv"], "pip", "compile", req, "--python", python, *target,
                       "--quiet", "-o", str(d / "out.txt")],
            count=lambda d: count_pins(d / "out.txt"),
        ),
        "pip": Variant(
            "pip", "pip",
            "pip install --dry-run --ignore-installed --report report.json -r requirements.in",
            lambda d: [python, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                       "--quiet", "--report", str(d / "report.json"), "-r", req],
            count=lambda d: _count_report(d / "report.json"),
        ),
    }
    return [table[name] for name in tools]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = benchmark_parser(
        __doc__, tools=TOOLS, default_tools=TOOLS,
        python_help="interpreter that runs kiln and pip and that uv resolves for",
    )
    parser.add_argument("--cold", action="store_true",
                        help="empty every tool's cache before each run")
    parser.add_argument("--set", choices=sorted(SETS), default="web",
                        help="web: eight roots of a web application (default); conflict: "
                        "celery[redis] and black for Python 3.11, with kiln and uv only")
    args = parse_checked(parser, argv)
    if list(args.tools) == list(TOOLS):  # the default: every tool the set runs
        args.tools = list(SETS[args.set].tools)
    unknown = set(args.tools) - set(SETS[args.set].tools)
    if unknown:
        parser.error(f"--set {args.set} runs only {','.join(SETS[args.set].tools)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    chosen_set = SETS[args.set]
    with tempfile.TemporaryDirectory(prefix="kiln-bench-resolve-") as tmp:
        work = Path(tmp)
        caches = {name: work / "cache" / name for name in TOOLS}
        env = bench_env({
            "KILN_CACHE_DIR": str(caches["kiln"]),
            "UV_CACHE_DIR": str(caches["uv"]),
            "PIP_CACHE_DIR": str(caches["pip"]),
        })
        requirements = work / "requirements.in"
        requirements.write_text("\n".join(chosen_set.roots) + "\n", encoding="utf-8")
        chosen = variants(args.python, requirements, args.tools, chosen_set.python_version)

        def empty_cache(variant: Variant) -> None:
            if args.cold:
                shutil.rmtree(caches[variant.tool], ignore_errors=True)

        results = measure(chosen, work, env, args.rounds, args.warmup,
                          before_run=empty_cache, progress=not args.quiet)
        paths = tool_paths(args.python)
        asks = {
            "kiln": [*kiln_command(args.python), "--version"],
            "uv": [paths["uv"], "--version"],
            "pip": [args.python, "-m", "pip", "--version"],
        }
        versions = {tool: version_of(asks[tool], env) for tool in args.tools}
    python_version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    settings = {
        "date": datetime.date.today().isoformat(),
        "requirements": ", ".join(f"`{root}`" for root in chosen_set.roots),
        "index": "PyPI (`https://pypi.org/simple`), over the network",
        "caches": "empty before every run (cold)" if args.cold
        else "warm: each tool's own cache, filled by the warm-up round",
        "Python": python_version or "?",
        **({} if chosen_set.python_version is None
           else {"resolved for": f"Python {chosen_set.python_version}"}),
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rounds": f"{args.rounds} timed, {args.warmup} warm-up",
    }
    report = markdown_report(results, chosen, versions, BASELINE, settings,
                             count_label="packages")
    return publish(report, results, args, chosen_set.block + ("-cold" if args.cold else ""))


if __name__ == "__main__":
    sys.exit(main())
