"""Isolated `kiln build` with kiln's own installer, offline from pip's local indexes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pip_helpers import base_env, kiln, ok

from kiln.core.index.pipconfig import pip_index_settings


def test_hatchling_project_builds_with_the_kiln_installer(tmp_path: Path) -> None:
    settings = pip_index_settings()
    local = [u for u in [settings.index_url or "", *settings.extra_index_urls]
             if u.startswith("file://")]
    if not local:
        pytest.skip("pip's configuration has no local (file://) package index")
    env = base_env(tmp_path / "cache")
    env.update({"PIP_INDEX_URL": local[0], "PIP_EXTRA_INDEX_URL": " ".join(local[1:]),
                "PIP_FIND_LINKS": "", "KILN_BUILD_INSTALLER": "kiln"})
    project = tmp_path / "hatched"
    (project / "src" / "hatched").mkdir(parents=True)
    (project / "src" / "hatched" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "hatched"\nversion = "0.2.0"\n\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    result = ok(kiln("build", "--wheel", "-v", project, env=env))
    assert "installed hatchling==" in result.stderr
    wheel = project / "dist" / "hatched-0.2.0-py2.py3-none-any.whl"
    assert "hatched/__init__.py" in zipfile.ZipFile(wheel).namelist()
    [env_dir] = [p for p in (tmp_path / "cache" / "build-envs-v1").iterdir() if p.is_dir()]
    site = next((env_dir / "lib").glob("python*/site-packages"))
    installer = next(site.glob("hatchling-*.dist-info")) / "INSTALLER"
    assert installer.read_text() == "kiln\n"
