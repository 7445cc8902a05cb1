#!/usr/bin/env python3
"""Time installing a pinned web-application set (about 80 wheels) into a fresh virtual
environment: kiln, uv and pip side by side, with warm caches.

Setup (untimed): the requirement set of ``resolve.py`` is pinned once with
``uv pip compile``, and its wheels are downloaded once into a local directory with
``pip download``. Each measurement then creates a fresh virtual environment (untimed, with
``uv venv``) and times one command that installs exactly the pinned set into it:

* ``kiln pip sync requirements.txt`` and ``uv pip sync requirements.txt``, from PyPI with
  warm caches (the index pages are still fetched: PyPI's pages must be revalidated);
* the same two commands with ``--no-index --find-links wheels/`` (no network at all);
* ``pip install --no-index --find-links wheels/ --no-deps -r requirements.txt``, pip's
  fastest local path (pip byte-compiles by default; ``pip-no-compile`` turns that off).

Every tool has its own cache directory in a scratch directory, filled by the warm-up round.

Usage: python benchmarks/install.py [--rounds N] [--tools kiln,uv,...] [--write]
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from resolve import ROOTS
from toolbench import (
    Variant,
    bench_env,
    benchmark_parser,
    count_dist_infos,
    count_pins,
    kiln_command,
    markdown_report,
    measure,
    parse_checked,
    publish,
    run_command,
    tool_paths,
    version_of,
)

TOOLS = ("kiln", "uv", "kiln-find-links", "uv-find-links", "pip", "pip-no-compile")
DEFAULT_TOOLS = ("kiln", "uv", "kiln-find-links", "uv-find-links", "pip")
BLOCK = "install-results"
BASELINE = "kiln"


def variants(
    python: str, pinned: Path, wheels: Path, tools: Sequence[str], env: Mapping[str, str]
) -> list[Variant]:
    paths = tool_paths(python)
    req, links = str(pinned), str(wheels)
    local = ["--no-index", "--find-links", links]

    def fresh_venv(run_dir: Path) -> None:
        elapsed, error = run_command(
            [paths["uv"], "venv", "--quiet", "--python", python, str(run_dir / "venv")],
            run_dir, env,
        )
        del elapsed
        if error:
            raise RuntimeError(f"cannot create a virtual environment: {error}")

    def venv_python(run_dir: Path) -> str:
        return str(run_dir / "venv" / "bin" / "python")

    def count(run_dir: Path) -> int:
        return count_dist_infos(run_dir / "venv")

    def kiln(*extra: str) -> list[str]:
        return [*kiln_command(python), "pip", "sync", *extra, req, "--python"]

    def uv(*extra: str) -> list[str]:
        return [paths["uv"], "pip", "sync", "--quiet", *extra, req, "--python"]

    pip = [python, "-m", "pip", "--python"]
    pip_args = ["install", "--quiet", *local, "--no-deps", "-r", req]
    table = {
        "kiln": Variant(
            "kiln", "kiln", "kiln pip sync requirements.txt",
            lambda d: [*kiln(), str(d / "venv")], fresh_venv, count,
        ),
        "uv": Variant(
            "uv", "uv", "uv pip sync requirements.txt",
            lambda d: [*uv(), venv_python(d)], fresh_venv, count,
        ),
        "kiln-find-links": Variant(
            "kiln-find-links", "kiln",
            "kiln pip sync --no-index --find-links wheels/ requirements.txt",
            lambda d: [*kiln(*local), str(d / "venv")], fresh_venv, count,
        ),
        "uv-find-links": Variant(
            "uv-find-links", "uv",
            "uv pip sync --no-index --find-links wheels/ requirements.txt",
            lambda d: [*uv(*local), venv_python(d)], fresh_venv, count,
        ),
        "pip": Variant(
            "pip", "pip",
            "pip install --no-index --find-links wheels/ --no-deps -r requirements.txt",
            lambda d: [*pip, venv_python(d), *pip_args], fresh_venv, count,
        ),
        "pip-no-compile": Variant(
            "pip-no-compile", "pip",
            "pip install --no-compile --no-index --find-links wheels/ --no-deps "
            "-r requirements.txt",
            lambda d: [*pip, venv_python(d), *pip_args, "--no-compile"], fresh_venv, count,
        ),
    }
    return [table[name] for name in tools]


def prepare_inputs(python: str, work: Path, env: Mapping[str, str]) -> tuple[Path, Path]:
    """Pin the requirement set and download its wheels (untimed, needs the network)."""
    paths = tool_paths(python)
    roots = work / "requirements.in"
    roots.write_text("\n".join(ROOTS) + "\n", encoding="utf-8")
    pinned = work / "requirements.txt"
    wheels = work / "wheels"
    steps = [
        [paths["uv"], "pip", "compile", str(roots), "--python", python, "--quiet",
         "--no-header", "--no-annotate", "-o", str(pinned)],
        [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
         "-r", str(pinned), "-d", str(wheels)],
    ]
    for argv in steps:
        _elapsed, error = run_command(argv, work, env)
        if error:
            raise RuntimeError(f"setup step `{' '.join(argv[:3])} ...` failed: {error}")
    return pinned, wheels


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = benchmark_parser(
        __doc__, tools=TOOLS, default_tools=DEFAULT_TOOLS,
        python_help="interpreter that runs kiln and pip and of the fresh environments",
    )
    return parse_checked(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kiln-bench-install-") as tmp:
        work = Path(tmp)
        env = bench_env({
            "KILN_CACHE_DIR": str(work / "cache" / "kiln"),
            "UV_CACHE_DIR": str(work / "cache" / "uv"),
            "PIP_CACHE_DIR": str(work / "cache" / "pip"),
            # uv links from its cache; a scratch directory may not allow clones.
            "UV_LINK_MODE": "hardlink",
        })
        try:
            pinned, wheels = prepare_inputs(args.python, work, env)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        chosen = variants(args.python, pinned, wheels, args.tools, env)
        results = measure(chosen, work, env, args.rounds, args.warmup,
                          progress=not args.quiet)
        pins = count_pins(pinned)
        wheel_count = len(list(wheels.glob("*.whl")))
        paths = tool_paths(args.python)
        versions = {
            "kiln": version_of([*kiln_command(args.python), "--version"], env),
            "uv": version_of([paths["uv"], "--version"], env),
            "pip": version_of([args.python, "-m", "pip", "--version"], env),
        }
        shutil.rmtree(work / "runs", ignore_errors=True)
    python_version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    settings = {
        "date": datetime.date.today().isoformat(),
        "requirements": f"{pins} pins of " + ", ".join(f"`{root}`" for root in ROOTS),
        "wheels": f"{wheel_count} files, downloaded once into `wheels/`",
        "target": "a fresh virtual environment per run (`uv venv`, not timed)",
        "caches": "warm: each tool's own cache, filled by the warm-up round",
        "Python": python_version or "?",
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rounds": f"{args.rounds} timed, {args.warmup} warm-up",
    }
    report = markdown_report(results, chosen, versions, BASELINE, settings,
                             count_label="installed")
    return publish(report, results, args, BLOCK)


if __name__ == "__main__":
    sys.exit(main())
