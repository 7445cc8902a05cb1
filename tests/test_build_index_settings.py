"""Which indexes a run uses, and how: pip's settings get pip's semantics (issue #16).

A loopback index pair stands in for a machine whose pip configuration lists mirrors that
hold different versions: index A, listed first (``extra-index-url``), has only
``standin-backend`` 4.1.0 (like the first mirror with ``flit-core`` holding only 4.1.0);
index B (``index-url``) has 3.9. The project requires ``standin-backend>=3.2,<4`` in
``[build-system]``. The CLI tests run the real ``kiln`` in a subprocess; the precedence
rules are also checked on :func:`run_locations` itself.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer
from packaging.requirements import Requirement
from pip_helpers import kiln, make_venv, ok, run_python
from wheelbuilder import make_wheel

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.pipconfig import pip_index_settings
from kiln.core.index.runsettings import run_locations
from kiln.core.index.source import IndexPackageSource
from kiln.core.resolver.driver import resolve
from kiln.core.resolver.errors import ResolutionError
from kiln.errors import KilnError

#: A PEP 517 backend of its own: it writes a wheel with one module and records, in the
#: wheel's `Generator`, the version of the backend that built it.
BACKEND = '''
import base64, hashlib, os, re, zipfile

VERSION = {version!r}


def _project():
    text = open("pyproject.toml", encoding="utf-8").read()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    return name, version


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _project()
    dist = name.replace("-", "_")
    info = f"{{dist}}-{{version}}.dist-info"
    members = {{
        f"{{dist}}.py": b"",
        f"{{info}}/METADATA": f"Metadata-Version: 2.1\\nName: {{name}}\\nVersion: {{version}}\\n".encode(),
        f"{{info}}/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: standin-backend " + VERSION
            + "\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ).encode(),
    }}
    record = "".join(_record_line(p, d) for p, d in members.items()) + f"{{info}}/RECORD,,\\n"
    members[f"{{info}}/RECORD"] = record.encode()
    filename = f"{{dist}}-{{version}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return filename
'''

BUILD_SYSTEM = (
    '[build-system]\nrequires = ["standin-backend>=3.2,<4"]\n'
    'build-backend = "standin_backend"\n'
)


def backend_wheel(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return make_wheel(
        directory, "standin_backend", version,
        {"standin_backend/__init__.py": BACKEND.format(version=version)},
    )


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, IndexServer]]:
    """A (listed first) holds only 4.1.0; B holds 3.9."""
    root = tmp_path_factory.mktemp("standin")
    first, second = IndexServer(), IndexServer()
    first.add(backend_wheel(root / "a", "4.1.0"))
    first.add(make_wheel(root / "a", "helper", "1.0", {"helper/__init__.py": ""},
                         requires=("standin-backend>=3.2,<4",)))
    second.add(backend_wheel(root / "b", "3.9"))
    with first, second:
        yield first, second


def app_project(root: Path, name: str = "app") -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n{BUILD_SYSTEM}', encoding="utf-8"
    )
    return root


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No index setting from the machine: no `KILN_*`/`UV_*`/`PIP_*` variables, no kiln.toml,
    uv.toml or pip.conf of the user (an empty `PIP_CONFIG_FILE` skips pip's user files)."""
    environ = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("KILN_", "UV_", "PIP_", "VIRTUAL_ENV"))
    }
    environ["KILN_CACHE_DIR"] = str(tmp_path / "cache")
    environ["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    environ["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    environ["XDG_CONFIG_DIRS"] = str(tmp_path / "xdg-config-dirs")
    environ["NO_COLOR"] = "1"
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text("", encoding="utf-8")
    environ["PIP_CONFIG_FILE"] = str(pip_conf)
    return environ


def pip_conf(env: dict[str, str], text: str) -> None:
    Path(env["PIP_CONFIG_FILE"]).write_text(text, encoding="utf-8")


def both_in_pip_conf(env: dict[str, str], indexes: tuple[IndexServer, IndexServer]) -> None:
    first, second = indexes
    pip_conf(env, f"[global]\nindex-url = {second.url}\nextra-index-url = {first.url}\n")


def kiln_toml(env: dict[str, str], text: str) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "kiln" / "kiln.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def built_by(wheel: Path) -> str:
    """The backend version named in the wheel's `Generator`."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/WHEEL"))
        text = archive.read(name).decode()
    return next(line for line in text.splitlines() if line.startswith("Generator:")).split()[-1]


def build(project: Path, env: dict[str, str], *args: str):
    return kiln("build", "--wheel", project, *args, env=env, cwd=project)


# --- pip's settings: every index, the best version ------------------------------------------


@pytest.mark.parametrize("installer", ["kiln", "uv"])
def test_pip_conf_indexes_are_all_searched_for_the_best_version(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer],
    installer: str,
) -> None:
    both_in_pip_conf(env, indexes)
    env["KILN_BUILD_INSTALLER"] = installer
    project = app_project(tmp_path / "app")
    result = ok(build(project, env, "-v"))
    wheel = project / "dist" / "app-0.1.0-py3-none-any.whl"
    assert built_by(wheel) == "3.9", result.stderr


@pytest.mark.slow
def test_the_pip_installer_gets_the_run_settings_not_its_own_configuration(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    """pip alone would read pip.conf (A only: no 3.x); it gets kiln.toml's B alone instead,
    and nothing of pip.conf leaks in (A is never asked)."""
    first, second = indexes
    pip_conf(env, f"[global]\nindex-url = {first.url}\nextra-index-url = {first.url}\n"
                  f"[install]\nfind-links = {first.url}/standin-backend/\n")
    kiln_toml(env, f'index-url = "{second.url}"\n')
    env["KILN_BUILD_INSTALLER"] = "pip"
    project = app_project(tmp_path / "app")
    seen = len(first.requests())
    ok(build(project, env))
    assert built_by(project / "dist" / "app-0.1.0-py3-none-any.whl") == "3.9"
    assert len(first.requests()) == seen


def test_pip_variables_are_pip_settings_too(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    first, second = indexes
    env["PIP_INDEX_URL"] = second.url
    env["PIP_EXTRA_INDEX_URL"] = first.url
    project = app_project(tmp_path / "app")
    ok(build(project, env))
    assert built_by(project / "dist" / "app-0.1.0-py3-none-any.whl") == "3.9"
    assert first.requests("/simple/standin-backend/") and second.requests("/simple/standin-backend/")


# --- the first-index hint ------------------------------------------------------------------


def test_a_failed_first_index_resolution_names_each_index_and_its_versions(
    tmp_path: Path, indexes: tuple[IndexServer, IndexServer]
) -> None:
    first, second = indexes
    locations = resolve_locations(
        IndexOptions(index_url=second.url, extra_index_url=(first.url,)), None, environ={},
        cwd=tmp_path,
    )
    options = ClientOptions(cache_dir=tmp_path / "cache", retries=0)
    wanted = [Requirement("helper")]  # which requires standin-backend>=3.2,<4
    with (
        IndexPackageSource(locations, options, environ={}) as source,
        pytest.raises(ResolutionError) as raised,
    ):
        resolve(wanted, source)
    assert raised.value.hint == (
        f"with the index strategy `first-index`, kiln took `helper` from index `{first.url}` "
        f"(which has 1.0) and `standin-backend` from index `{first.url}` (which has 4.1.0), "
        "and searched no later index for them (a defence against dependency confusion); if "
        "every index is trusted, `--index-strategy unsafe-best-match` (or "
        "`KILN_INDEX_STRATEGY=unsafe-best-match`) takes the best version from all of them"
    )
    best = resolve_locations(
        IndexOptions(index_url=second.url, extra_index_url=(first.url,),
                     strategy="unsafe-best-match"),
        None, environ={}, cwd=tmp_path,
    )
    with IndexPackageSource(best, options, environ={}) as source:
        pins = {p.name: str(p.version) for p in resolve(wanted, source).packages.values()}
    assert pins == {"helper": "1.0", "standin-backend": "3.9"}


# --- kiln's and uv's settings: first-index, unless told otherwise ------------------------------


def _kiln_settings(
    how: str, env: dict[str, str], project: Path, indexes: tuple[IndexServer, IndexServer]
) -> None:
    """The same two indexes as kiln settings: A before B, B the default."""
    first, second = indexes
    if how == "kiln.toml":
        kiln_toml(env, f'index-url = "{second.url}"\nextra-index-url = ["{first.url}"]\n')
    elif how == "uv.toml":
        path = Path(env["XDG_CONFIG_HOME"]) / "uv" / "uv.toml"
        path.parent.mkdir(parents=True)
        path.write_text(
            f'[[index]]\nurl = "{first.url}"\n\n[[index]]\nurl = "{second.url}"\ndefault = true\n',
            encoding="utf-8",
        )
    elif how == "variables":
        env["KILN_INDEX_URL"] = second.url
        env["KILN_EXTRA_INDEX_URL"] = first.url
    else:
        with (project / "pyproject.toml").open("a", encoding="utf-8") as handle:
            handle.write(
                f'\n[[tool.kiln.index]]\nname = "a"\nurl = "{first.url}"\n'
                f'\n[[tool.kiln.index]]\nname = "b"\nurl = "{second.url}"\ndefault = true\n'
            )


def assert_first_index_error(result, label: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    error = result.stderr[result.stderr.index("error:"):]
    assert "installing build requirements failed" in error
    assert f"`standin-backend` from index `{label}` (which has 4.1.0)" in error
    assert "hint:" in error and "`--index-strategy unsafe-best-match`" in error


@pytest.mark.parametrize("how", ["kiln.toml", "uv.toml", "variables", "pyproject"])
def test_kiln_settings_keep_first_index_and_the_error_names_index_and_versions(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer], how: str
) -> None:
    first, second = indexes
    project = app_project(tmp_path / "app")
    _kiln_settings(how, env, project, indexes)
    seen = len(second.requests("/simple/standin-backend/"))
    # Indexes are named by their name when they have one, else by their URL.
    assert_first_index_error(build(project, env), "a" if how == "pyproject" else first.url)
    assert len(second.requests("/simple/standin-backend/")) == seen  # never asked
    assert not (project / "dist").exists()


@pytest.mark.parametrize("where", ["variable", "kiln.toml"])
def test_the_hinted_strategy_makes_kiln_settings_search_every_index(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer], where: str
) -> None:
    first, second = indexes
    strategy = 'index-strategy = "unsafe-best-match"\n'
    kiln_toml(env, f'index-url = "{second.url}"\nextra-index-url = ["{first.url}"]\n'
              + (strategy if where == "kiln.toml" else ""))
    if where == "variable":
        env["KILN_INDEX_STRATEGY"] = "unsafe-best-match"
    project = app_project(tmp_path / "app")
    ok(build(project, env))
    assert built_by(project / "dist" / "app-0.1.0-py3-none-any.whl") == "3.9"


def test_the_uv_installer_gets_the_same_settings_and_none_of_uvs_own(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    first, second = indexes
    project = app_project(tmp_path / "app")
    env["KILN_BUILD_INSTALLER"] = "uv"
    _kiln_settings("kiln.toml", env, project, indexes)
    result = build(project, env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "only standin-backend==4.1.0 is available" in result.stderr  # first-index
    assert first.url in result.stderr
    # uv's own index variables would add B and make any strategy succeed: they are dropped.
    kiln_toml(env, f'index-url = "{first.url}"\nindex-strategy = "unsafe-best-match"\n')
    env["UV_EXTRA_INDEX_URL"] = env["UV_INDEX"] = second.url
    seen = len(second.requests())
    result = build(project, env)
    assert result.returncode == 1, result.stderr
    assert "only standin-backend==4.1.0 is available" in result.stderr
    assert len(second.requests()) == seen


# --- precedence ------------------------------------------------------------------------------


def test_kiln_settings_win_entirely_over_pip_conf(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    """pip.conf alone builds; adding a kiln.toml that names only A makes kiln use A alone,
    first-index, and not the environment cached for pip's settings."""
    first, second = indexes
    both_in_pip_conf(env, indexes)
    project = app_project(tmp_path / "app")
    ok(build(project, env))
    kiln_toml(env, f'index-url = "{first.url}"\n')
    seen = len(second.requests())
    result = build(project, env)
    assert result.returncode == 1, result.stderr
    assert "no version of standin-backend>=3.2,<4" in result.stderr
    assert len(second.requests()) == seen


def test_a_kiln_strategy_applies_to_pip_settings_and_credentials_stay_hidden(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    first, second = indexes
    secret_url = first.url.replace("http://", "http://user:s3cret@")
    pip_conf(env, f"[global]\nindex-url = {second.url}\nextra-index-url = {secret_url}\n")
    env["KILN_INDEX_STRATEGY"] = "first-index"
    result = build(app_project(tmp_path / "app"), env, "-v")
    assert result.returncode == 1, result.stderr
    assert "s3cret" not in result.stderr
    assert "user:****@127.0.0.1" in result.stderr
    assert "`--index-strategy unsafe-best-match`" in result.stderr


# --- kiln pip: the same settings, for the install and for its build environments ----------------


def test_kiln_pip_reads_pip_conf_with_pip_semantics(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    both_in_pip_conf(env, indexes)
    venv = make_venv(tmp_path / "venv", env)
    ok(kiln("pip", "install", "--python", venv, "standin-backend<4", env=env, cwd=tmp_path))
    assert run_python(venv, "import standin_backend; print(standin_backend.VERSION)") == "3.9"


def test_kiln_pip_build_environments_use_the_run_index_options(
    tmp_path: Path, env: dict[str, str], indexes: tuple[IndexServer, IndexServer]
) -> None:
    """pip.conf names only A, where the build requirement cannot be met; the command line
    names B, and the build environment of the project follows the command line."""
    first, second = indexes
    pip_conf(env, f"[global]\nindex-url = {first.url}\n")
    project = app_project(tmp_path / "app")
    venv = make_venv(tmp_path / "venv", env)
    seen = len(first.requests())
    ok(kiln("pip", "install", "--python", venv, "--default-index", second.url, project,
            env=env, cwd=tmp_path))
    assert run_python(venv, "import app; print(app.__name__)") == "app"
    assert len(first.requests()) == seen


# --- run_locations: the one function ---------------------------------------------------------


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """No configuration of the machine: a home, config directories and pip.conf of our own."""
    (tmp_path / "home").mkdir()
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "XDG_CONFIG_DIRS": str(tmp_path / "etc-xdg"),
        "PIP_CONFIG_FILE": os.devnull,
    }


def urls(locations) -> list[str]:
    return [index.url for index in locations.indexes]


def test_pip_settings_become_every_index_best_version(tmp_path: Path, environ: dict[str, str]) -> None:
    environ["PIP_INDEX_URL"] = "https://b.example/simple"
    environ["PIP_EXTRA_INDEX_URL"] = "https://a.example/simple"
    environ["PIP_FIND_LINKS"] = "wheels"
    locations = run_locations(IndexOptions(), environ=environ, cwd=tmp_path)
    assert urls(locations) == ["https://a.example/simple", "https://b.example/simple"]
    assert locations.strategy == "unsafe-best-match"
    assert [i.url for i in locations.find_links] == [(tmp_path / "wheels").as_uri()]


def test_without_any_setting_pypi_first_index(tmp_path: Path, environ: dict[str, str]) -> None:
    locations = run_locations(IndexOptions(), environ=environ, cwd=tmp_path)
    assert urls(locations) == ["https://pypi.org/simple"]
    assert locations.strategy == "first-index"


@pytest.mark.parametrize("kiln_setting", [
    {"options": IndexOptions(find_links=("wheels",))},
    {"env": {"KILN_DEFAULT_INDEX": "https://k.example/simple"}},
    {"file": 'extra-index-url = ["https://k.example/simple"]\n'},
    {"project": '[[tool.kiln.index]]\nurl = "https://k.example/simple"\n'},
])
def test_any_kiln_setting_of_where_replaces_all_of_pips(
    tmp_path: Path, environ: dict[str, str], kiln_setting: dict[str, object]
) -> None:
    environ["PIP_INDEX_URL"] = "https://pip.example/simple"
    environ.update(kiln_setting.get("env", {}))  # type: ignore[arg-type]
    if "file" in kiln_setting:
        (tmp_path / "kiln.toml").write_text(str(kiln_setting["file"]), encoding="utf-8")
    project = None
    if "project" in kiln_setting:
        project = tmp_path / "pyproject.toml"
        project.write_text('[project]\nname = "p"\nversion = "1"\n' + str(kiln_setting["project"]))
    options = kiln_setting.get("options", IndexOptions())
    locations = run_locations(options, project=project, environ=environ, cwd=tmp_path)  # type: ignore[arg-type]
    assert "https://pip.example/simple" not in urls(locations)
    assert locations.strategy == "first-index"


def test_explicit_project_indexes_and_a_strategy_alone_leave_pips_settings_in_place(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    environ["PIP_INDEX_URL"] = "https://pip.example/simple"
    (tmp_path / "kiln.toml").write_text('index-strategy = "unsafe-first-match"\n')
    project = tmp_path / "pyproject.toml"
    project.write_text(
        '[project]\nname = "p"\nversion = "1"\n\n[tool.kiln.sources]\ntorch = { index = "t" }\n'
        '\n[[tool.kiln.index]]\nname = "t"\nurl = "https://t.example/simple"\nexplicit = true\n'
    )
    locations = run_locations(IndexOptions(), project=project, environ=environ, cwd=tmp_path)
    assert urls(locations) == ["https://pip.example/simple"]
    assert [i.url for i in locations.explicit] == ["https://t.example/simple"]
    assert locations.strategy == "unsafe-first-match"


@pytest.mark.parametrize("fixed", [
    {"no_config": True}, {"env": "KILN_NO_CONFIG"}, {"config_file": True}, {"env": "KILN_CONFIG_FILE"},
])
def test_a_fixed_configuration_reads_none_of_pips(
    tmp_path: Path, environ: dict[str, str], fixed: dict[str, object]
) -> None:
    environ["PIP_INDEX_URL"] = "https://pip.example/simple"
    chosen = tmp_path / "ci.toml"
    chosen.write_text('index-strategy = "first-index"\n')
    if fixed.get("env") == "KILN_NO_CONFIG":
        environ["KILN_NO_CONFIG"] = "1"
    if fixed.get("env") == "KILN_CONFIG_FILE":
        environ["KILN_CONFIG_FILE"] = str(chosen)
    locations = run_locations(
        IndexOptions(), environ=environ, cwd=tmp_path,
        no_config=bool(fixed.get("no_config")),
        config_file=chosen if fixed.get("config_file") else None,
    )
    assert urls(locations) == ["https://pypi.org/simple"]


# --- reading pip's configuration as pip does --------------------------------------------------


def test_pip_config_file_replaces_the_user_files_and_variables_win(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    user = Path(environ["XDG_CONFIG_HOME"]) / "pip" / "pip.conf"
    user.parent.mkdir(parents=True)
    user.write_text("[global]\nfind-links = /user-wheels\nindex-url = https://user.example/simple\n")
    assert pip_index_settings(environ).index_url is None  # PIP_CONFIG_FILE=/dev/null: no file
    del environ["PIP_CONFIG_FILE"]
    assert pip_index_settings(environ).find_links == ("/user-wheels",)
    chosen = tmp_path / "pip.conf"
    chosen.write_text(
        "[global]\nindex-url = https://global.example/simple\n"
        "[install]\nindex-url = https://install.example/simple\n"
    )
    environ["PIP_CONFIG_FILE"] = str(chosen)
    settings = pip_index_settings(environ)
    assert settings.index_url == "https://install.example/simple"
    assert settings.find_links == ()  # the user file is not read when PIP_CONFIG_FILE exists
    assert settings.files == (chosen,)
    environ["PIP_INDEX_URL"] = ""  # empty: ignored, as pip ignores it
    assert pip_index_settings(environ).index_url == "https://install.example/simple"
    environ["PIP_INDEX_URL"] = "https://variable.example/simple"
    assert pip_index_settings(environ).index_url == "https://variable.example/simple"


def test_install_sections_win_over_global_ones_of_later_files(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    system = Path(environ["XDG_CONFIG_DIRS"]) / "pip" / "pip.conf"
    system.parent.mkdir(parents=True)
    system.write_text("[install]\nindex-url = https://system-install.example/simple\n")
    chosen = tmp_path / "pip.conf"
    chosen.write_text("[global]\nindex-url = https://later-global.example/simple\n")
    environ["PIP_CONFIG_FILE"] = str(chosen)
    settings = pip_index_settings(environ)
    assert settings.index_url == "https://system-install.example/simple"
    assert settings.origins == {"index-url": str(system)}


def test_bad_pip_configuration_is_a_clear_error(tmp_path: Path, environ: dict[str, str]) -> None:
    environ["PIP_NO_INDEX"] = "maybe"
    with pytest.raises(KilnError) as raised:
        pip_index_settings(environ)
    assert raised.value.message.startswith("PIP_NO_INDEX: `no-index` must be a yes/no value")
    del environ["PIP_NO_INDEX"]
    broken = tmp_path / "pip.conf"
    broken.write_text("index-url = https://no-section.example/simple\n")
    environ["PIP_CONFIG_FILE"] = str(broken)
    with pytest.raises(KilnError) as raised:
        pip_index_settings(environ)
    assert raised.value.message.startswith(f"{broken}: cannot read pip's configuration file")
    assert raised.value.hint is not None and "PIP_CONFIG_FILE=/dev/null" in raised.value.hint
