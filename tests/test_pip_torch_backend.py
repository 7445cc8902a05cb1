"""`kiln pip install/compile/sync --torch-backend` through the real CLI.

One loopback server stands in for the default index, another for download.pytorch.org: it
lists tiny `torch` wheels under `/whl/cpu/` (`2.5.1+cpu`, `2.6.0+cpu`) and `/whl/cu126/`
(`2.5.1+cu126`), and a `filelock` that must never be taken from it. `KILN_TORCH_BACKEND_URL`
points kiln at it; `KILN_TEST_SYSTEM_ROOT` names the directory that stands in for `/` when
`auto` reads the NVIDIA driver version.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_wheel
from pip_helpers import base_env, diagnostics, kiln, make_venv, ok

PROC_550 = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  "
    "(dvs-builder@U16-I3-D08-1-2)  Mon Dec 30 17:26:13 UTC 2024\n"
)


@pytest.fixture(scope="module")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    wheels = tmp_path_factory.mktemp("default")
    server = IndexServer()
    server.add(build_wheel(wheels, "numpy", "2.1.0"))
    server.add(build_wheel(wheels, "filelock", "3.16.1"))
    # PyPI's own torch, newer than any build on the PyTorch indexes: never taken.
    server.add(build_wheel(wheels, "torch", "2.7.0", requires_dist=["filelock"]))
    with server:
        yield server


@pytest.fixture(scope="module")
def pytorch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    wheels = tmp_path_factory.mktemp("pytorch")
    server = IndexServer()
    for root, version in (("cpu", "2.5.1+cpu"), ("cpu", "2.6.0+cpu"), ("cu126", "2.5.1+cu126")):
        path = build_wheel(wheels / root, "torch", version, requires_dist=["filelock"])
        server.add(path, root=f"/whl/{root}")
    # The PyTorch indexes mirror common packages; only PyTorch's own come from them.
    server.add(build_wheel(wheels / "cpu", "filelock", "99.0"), root="/whl/cpu")
    with server:
        yield server


@pytest.fixture
def env(tmp_path: Path, pytorch: IndexServer, default: IndexServer) -> dict[str, str]:
    environ = base_env(tmp_path / "cache")
    environ["KILN_TORCH_BACKEND_URL"] = f"{pytorch.base}/whl"
    environ["KILN_INDEX_URL"] = default.url
    system = tmp_path / "system"  # no GPU driver unless a test writes one
    system.mkdir()
    environ["KILN_TEST_SYSTEM_ROOT"] = str(system)
    return environ


def installed(stdout: str, stderr: str) -> list[str]:
    return [line[3:] for line in (stdout + stderr).splitlines() if line.startswith(" + ")]


def test_cpu_takes_torch_from_the_cpu_index_and_the_rest_from_the_default_index(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    pytorch.log.clear()
    default.log.clear()
    result = ok(kiln("pip", "install", "-p", venv, "--torch-backend", "cpu", "torch", "numpy",
                     env=env))
    assert installed(result.stdout, result.stderr) == [
        "filelock==3.16.1", "numpy==2.1.0", "torch==2.6.0+cpu",
    ]
    asked_pytorch = {r.path for r in pytorch.requests("/whl/")}
    assert asked_pytorch == {"/whl/cpu/torch/"}
    assert not default.requests("/simple/torch/")
    assert default.requests("/simple/numpy/") and default.requests("/simple/filelock/")
    site = next((venv / "lib").glob("python*/site-packages"))
    assert (site / "torch-2.6.0+cpu.dist-info").is_dir()


def test_a_plain_version_pin_matches_the_local_build(
    tmp_path: Path, env: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "-p", venv, "--torch-backend", "cpu", "torch==2.5.1",
                     env=env))
    assert "torch==2.5.1+cpu" in installed(result.stdout, result.stderr)


def test_auto_with_a_550_driver_takes_the_cuda_build(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer
) -> None:
    system = Path(env["KILN_TEST_SYSTEM_ROOT"])
    (system / "proc/driver/nvidia").mkdir(parents=True)
    (system / "proc/driver/nvidia/version").write_text(PROC_550)
    venv = make_venv(tmp_path / "venv", env)
    pytorch.log.clear()
    result = ok(kiln("pip", "install", "-p", venv, "--torch-backend", "auto", "torch", env=env))
    # cu129 and cu128 come first but do not have torch here; cu126's build wins over the
    # newer CPU build because the indexes are searched in order.
    assert "torch==2.5.1+cu126" in installed(result.stdout, result.stderr)
    asked = {r.path for r in pytorch.requests("/whl/")}
    assert {"/whl/cu129/torch/", "/whl/cu126/torch/", "/whl/cpu/torch/"} <= asked
    assert "/whl/cu130/torch/" not in asked  # CUDA 13 needs driver 580


def test_auto_without_a_driver_takes_the_cpu_build_from_the_variable(
    tmp_path: Path, env: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "-p", venv, "torch", env={**env, "KILN_TORCH_BACKEND": "auto"}))
    assert "torch==2.6.0+cpu" in installed(result.stdout, result.stderr)


def test_without_a_backend_torch_comes_from_the_default_index(
    tmp_path: Path, env: dict[str, str]
) -> None:
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "-p", venv, "torch", env=env))
    assert "torch==2.7.0" in installed(result.stdout, result.stderr)


def test_an_unknown_backend_is_a_usage_error_listing_the_valid_ones(env: dict[str, str]) -> None:
    result = kiln("pip", "install", "--torch-backend", "cu999", "torch", env=env)
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: argument --torch-backend: unknown PyTorch backend `cu999`")
    assert "auto, cpu, cu132" in first and "rocm6.4" in first and "xpu" in first
    assert "Traceback" not in result.stderr


def test_an_unknown_backend_in_the_variable_is_an_error_naming_it(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "requirements.in").write_text("torch\n")
    result = kiln("pip", "compile", "requirements.in", env={**env, "KILN_TORCH_BACKEND": "gpu"},
                  cwd=tmp_path)
    assert result.returncode == 1
    lines = diagnostics(result.stderr).splitlines()
    assert lines[0] == "error: `KILN_TORCH_BACKEND`: unknown PyTorch backend `gpu`"
    assert lines[1].startswith("hint: use one of `auto`, `cpu`")


def test_compile_pins_the_local_build_and_can_name_its_index(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer, default: IndexServer
) -> None:
    (tmp_path / "requirements.in").write_text("torch==2.5.1\nnumpy\n")
    result = ok(kiln("pip", "compile", "requirements.in", "--torch-backend", "cpu",
                     "--emit-index-annotation", env=env, cwd=tmp_path))
    assert result.stdout.splitlines() == [
        "# This file was autogenerated by kiln via the following command:",
        "#    kiln pip compile requirements.in --torch-backend cpu --emit-index-annotation",
        "filelock==3.16.1",
        "    # via torch",
        f"    # from {default.url}",
        "numpy==2.1.0",
        "    # via -r requirements.in",
        f"    # from {default.url}",
        "torch==2.5.1+cpu",
        "    # via -r requirements.in",
        f"    # from {pytorch.base}/whl/cpu",
    ]


def test_sync_installs_a_compiled_local_build_from_the_backend(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.5.1+cu126\nfilelock==3.16.1\n")
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "sync", "-p", venv, "--torch-backend", "cu126", "requirements.txt",
                     env=env, cwd=tmp_path))
    assert installed(result.stdout, result.stderr) == ["filelock==3.16.1", "torch==2.5.1+cu126"]


def test_index_annotations_stay_without_via_lines_and_hide_the_password(
    tmp_path: Path, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    wheels = tmp_path_factory.mktemp("private")
    with IndexServer(auth=("bot", "s3cret-token")) as private:
        private.add(build_wheel(wheels, "numpy", "2.1.0"))
        url = f"http://bot:s3cret-token@127.0.0.1:{private.port}/simple"
        (tmp_path / "requirements.in").write_text("numpy\n")
        result = ok(kiln("pip", "compile", "requirements.in", "--no-annotate", "--no-header",
                         "--emit-index-annotation", "--index-url", url, env=env, cwd=tmp_path))
    assert result.stdout.splitlines() == [
        "numpy==2.1.0",
        f"    # from http://bot:****@127.0.0.1:{private.port}/simple",
    ]
    assert "s3cret-token" not in result.stdout + result.stderr


def test_a_source_pin_wins_over_the_backend(
    tmp_path: Path, env: dict[str, str], pytorch: IndexServer
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["torch"]\n\n'
        '[tool.kiln.sources]\ntorch = { index = "gpu" }\n\n'
        f'[[tool.kiln.index]]\nname = "gpu"\nurl = "{pytorch.base}/whl/cu126"\nexplicit = true\n'
    )
    venv = make_venv(tmp_path / "venv", env)
    result = ok(kiln("pip", "install", "-p", venv, "--torch-backend", "cpu", "-r",
                     "pyproject.toml", env=env, cwd=project))
    assert "torch==2.5.1+cu126" in installed(result.stdout, result.stderr)
