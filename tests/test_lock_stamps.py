"""A lock's stamps (`[tool.kiln]`) hold only while what the lock was made from is unchanged:
pip's configuration, which says where packages come from when kiln's settings do not,
counts as much as `kiln.toml`."""

from __future__ import annotations

from pathlib import Path

import tomllib
from indexserver import build_wheel
from pip_helpers import base_env, kiln, ok

PROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["probe"]
"""


def _locked_version(root: Path) -> str:
    data = tomllib.loads((root / "pylock.toml").read_text(encoding="utf-8"))
    return next(str(p["version"]) for p in data["packages"] if p["name"] == "probe")


def test_changing_pip_configuration_makes_the_lock_resolve_again(tmp_path: Path) -> None:
    old, new = tmp_path / "old-wheels", tmp_path / "new-wheels"
    old.mkdir()
    new.mkdir()
    build_wheel(old, "probe", "1.0")
    build_wheel(new, "probe", "2.0")
    root = tmp_path / "demo"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    env = {k: v for k, v in base_env(tmp_path / "cache").items() if not k.startswith("PIP_")}
    pip_conf = tmp_path / "pip.conf"
    env["PIP_CONFIG_FILE"] = str(pip_conf)

    pip_conf.write_text(f"[global]\nno-index = true\nfind-links = {old}\n", encoding="utf-8")
    ok(kiln("lock", env=env, cwd=root))
    assert _locked_version(root) == "1.0"
    # The locked 1.0 is no longer available: only a lock recognised as stale changes.
    pip_conf.write_text(f"[global]\nno-index = true\nfind-links = {new}\n", encoding="utf-8")
    ok(kiln("lock", env=env, cwd=root))
    assert _locked_version(root) == "2.0"
    # pip's variables win over its files, and count too.
    ok(kiln("lock", env={**env, "PIP_FIND_LINKS": str(old)}, cwd=root))
    assert _locked_version(root) == "1.0"
