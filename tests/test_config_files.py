"""Index settings from ``kiln.toml``/``uv.toml`` files: the user-level mirror of seed 000.

Each test runs the real CLI against loopback indexes; a configuration file points kiln at
them, and a file pointing at a dead address shows which file lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, kiln, make_venv, ok, run_python

from kiln.core.index.configfiles import discover, load_settings
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.errors import KilnError

DEAD = "http://127.0.0.1:9/simple"


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    root = tmp_path_factory.mktemp("mirror")
    server = IndexServer()
    server.add(build_wheel(root, "greeting", "1.0"))
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path / "cache")


def user_file(env: dict[str, str], name: str, text: str) -> Path:
    folder = "uv" if name == "uv.toml" else "kiln"
    path = Path(env["XDG_CONFIG_HOME"]) / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def mirror_table(url: str) -> str:
    return f'[[index]]\nurl = "{url}"\ndefault = true\n'


def install(env: dict[str, str], tmp_path: Path, *args: str, cwd: Path | None = None):
    venv = make_venv(tmp_path / "venv", env)
    result = kiln("pip", "install", "greeting", "--python", venv, *args, env=env,
                  cwd=cwd or tmp_path)
    return result, venv


@pytest.mark.parametrize("name", ["kiln.toml", "uv.toml"])
def test_user_level_mirror_serves_installs(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer, name: str
) -> None:
    user_file(env, name, mirror_table(mirror.url))
    result, venv = install(env, tmp_path)
    ok(result)
    assert run_python(venv, "import greeting; print(greeting.__name__)") == "greeting"
    assert mirror.requests("/simple/greeting/")


def test_command_line_index_wins_over_the_file(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer
) -> None:
    user_file(env, "kiln.toml", mirror_table(DEAD))
    ok(install(env, tmp_path, "--default-index", mirror.url)[0])


def test_no_config_ignores_every_file(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer
) -> None:
    user_file(env, "kiln.toml", "no-index = true\n")
    failed, _ = install(env, tmp_path, "--default-index", mirror.url)
    assert failed.returncode == 1
    assert "greeting" in failed.stderr
    ok(kiln("pip", "install", "greeting", "--python", tmp_path / "venv", "--no-config",
            "--default-index", mirror.url, env=env, cwd=tmp_path))


def test_project_file_wins_over_the_user_file(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer
) -> None:
    user_file(env, "kiln.toml", f'index-url = "{DEAD}"\n')
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "kiln.toml").write_text(f'index-url = "{mirror.url}"\n', encoding="utf-8")
    ok(install(env, tmp_path, cwd=project / "sub")[0])


def test_pip_table_replaces_top_level_keys(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer
) -> None:
    user_file(env, "kiln.toml", f'index-url = "{DEAD}"\n\n[pip]\nindex-url = "{mirror.url}"\n')
    ok(install(env, tmp_path)[0])


def test_config_file_option_reads_only_that_file(
    tmp_path: Path, env: dict[str, str], mirror: IndexServer
) -> None:
    user_file(env, "kiln.toml", mirror_table(DEAD))
    chosen = tmp_path / "ci.toml"
    chosen.write_text(mirror_table(mirror.url), encoding="utf-8")
    ok(install(env, tmp_path, "--config-file", str(chosen))[0])
    env["KILN_CONFIG_FILE"] = str(chosen)
    ok(kiln("pip", "install", "greeting", "--python", tmp_path / "venv", "--reinstall",
            env=env, cwd=tmp_path))


def test_unknown_key_names_the_file_and_the_key(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = user_file(env, "kiln.toml", 'index-urls = "https://example.org/simple"\n')
    result, _ = install(env, tmp_path)
    assert result.returncode == 1
    assert f"{path}: unknown key `index-urls`" in result.stderr
    assert "hint: known keys:" in result.stderr
    assert "Traceback" not in result.stderr


def test_uv_toml_keys_of_uv_are_ignored(tmp_path: Path, env: dict[str, str]) -> None:
    path = user_file(env, "uv.toml", 'python-preference = "managed"\nindex-url = "https://m.example/simple"\n')
    settings = load_settings(discover(tmp_path, env), pip=True)
    assert settings.files == (path,)
    assert settings.index_url == "https://m.example/simple"


def test_missing_config_file_is_an_error(tmp_path: Path, env: dict[str, str]) -> None:
    with pytest.raises(KilnError, match="does not exist"):
        discover(tmp_path, env, config_file=tmp_path / "nope.toml")


def test_file_indexes_follow_command_line_ones_and_merge_by_precedence(tmp_path: Path) -> None:
    project = tmp_path / "kiln.toml"
    project.write_text(
        'extra-index-url = ["https://extra-a.example/simple"]\nindex-strategy = "unsafe-best-match"\n'
        '[[index]]\nname = "team"\nurl = "https://team.example/simple"\n',
        encoding="utf-8",
    )
    user = tmp_path / "user.toml"
    user.write_text(
        'extra-index-url = ["https://extra-b.example/simple"]\nindex-strategy = "first-index"\n'
        'find-links = ["wheels"]\n'
        '[[index]]\nname = "team"\nurl = "https://shadowed.example/simple"\n',
        encoding="utf-8",
    )
    settings = load_settings([project, user], pip=True)
    locations = resolve_locations(
        IndexOptions(index=["https://cli.example/simple"]), None, environ={}, cwd=tmp_path,
        files=settings,
    )
    assert [i.url for i in locations.indexes] == [
        "https://cli.example/simple",
        "https://team.example/simple",
        "https://extra-a.example/simple",
        "https://extra-b.example/simple",
        "https://pypi.org/simple",
    ]
    assert locations.strategy == "unsafe-best-match"
    assert [i.url for i in locations.find_links] == [(tmp_path / "wheels").as_uri()]
