#!/usr/bin/env python3
"""Time resolving a web-application requirement set from PyPI: kiln, uv and pip side by side.

Each measurement runs one command in a fresh process that resolves the same eight root
requirements (about 80 pinned packages) for the same interpreter:

* ``kiln pip compile requirements.in -o requirements.txt``
* ``uv pip compile requirements.in -o requirements.txt``
* ``pip install --dry-run --ignore-installed --report report.json -r requirements.in``

Every tool has its own cache directory in a scratch directory; the untimed warm-up round
fills it, so timed rounds run with warm HTTP caches (``--cold`` empties the caches before
every run instead). Needs the network.

Usage: python benchmarks/resolve.py [--rounds N] [--tools kiln,uv,pip] [--cold] [--write]
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
    tool_paths,
    version_of,
    write_into_page,
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
BLOCK = "resolve-results"
BASELINE = "kiln"


def _count_report(path: Path) -> int:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    return len(data.get("install", []))


def variants(python: str, requirements: Path, tools: Sequence[str]) -> list[Variant]:
    paths = tool_paths(python)
    req = str(requirements)
    table = {
        "kiln": Variant(
            "kiln", "kiln", "kiln pip compile requirements.in -o requirements.txt",
            lambda d: [*kiln_command(python), "pip", "compile", req, "-o", str(d / "out.txt")],
            count=lambda d: count_pins(d / "out.txt"),
        ),
        "uv": Variant(
            "uv", "uv", "uv pip compile requirements.in -o requirements.txt",
            lambda d: [paths["uv"], "pip", "compile", req, "--python", python, "--quiet",
                       "-o", str(d / "out.txt")],
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
    return parse_checked(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kiln-bench-resolve-") as tmp:
        work = Path(tmp)
        caches = {name: work / "cache" / name for name in TOOLS}
        env = bench_env({
            "KILN_CACHE_DIR": str(caches["kiln"]),
            "UV_CACHE_DIR": str(caches["uv"]),
            "PIP_CACHE_DIR": str(caches["pip"]),
        })
        requirements = work / "requirements.in"
        requirements.write_text("\n".join(ROOTS) + "\n", encoding="utf-8")
        chosen = variants(args.python, requirements, args.tools)

        def empty_cache(variant: Variant) -> None:
            if args.cold:
                shutil.rmtree(caches[variant.tool], ignore_errors=True)

        results = measure(chosen, work, env, args.rounds, args.warmup,
                          before_run=empty_cache, progress=not args.quiet)
        paths = tool_paths(args.python)
        versions = {
            "kiln": version_of([*kiln_command(args.python), "--version"], env),
            "uv": version_of([paths["uv"], "--version"], env),
            "pip": version_of([args.python, "-m", "pip", "--version"], env),
        }
    python_version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    settings = {
        "date": datetime.date.today().isoformat(),
        "requirements": ", ".join(f"`{root}`" for root in ROOTS),
        "index": "PyPI (`https://pypi.org/simple`), over the network",
        "caches": "empty before every run (cold)" if args.cold
        else "warm: each tool's own cache, filled by the warm-up round",
        "Python": python_version or "?",
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rounds": f"{args.rounds} timed, {args.warmup} warm-up",
    }
    report = markdown_report(results, chosen, versions, BASELINE, settings,
                             count_label="packages")
    print(report, end="")
    if args.write:
        try:
            write_into_page(args.page, report, BLOCK + ("-cold" if args.cold else ""))
        except (OSError, ValueError) as exc:
            print(f"error: cannot write the results: {exc}", file=sys.stderr)
            return 1
        print(f"wrote the results into `{args.page}`", file=sys.stderr)
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
