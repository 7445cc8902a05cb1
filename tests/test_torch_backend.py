"""``--torch-backend``: the backends, the driver tables, detection and the routes it makes.

Detection reads files below a directory the test provides (``root``), standing in for ``/``;
no program is run then, so the results do not depend on the machine's own GPU.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from kiln.core.index.locations import IndexOptions, resolve_locations, with_env_fallbacks
from kiln.core.index.runsettings import run_locations
from kiln.core.index.torch import (
    BACKENDS,
    MODES,
    PACKAGES,
    Accelerator,
    backend_indexes,
    check_mode,
    choose_backends,
    detect,
)
from kiln.errors import KilnError

PROC_550 = (
    "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release Build  "
    "(dvs-builder@U16-I3-D08-1-2)  Mon Dec 30 17:26:13 UTC 2024\n"
    "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
)


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def cuda(version: str) -> Accelerator:
    return Accelerator("cuda", version, "test")


# -- names ------------------------------------------------------------------------------


def test_the_backends_are_uvs_names_of_the_pytorch_indexes() -> None:
    assert MODES[0] == "auto"
    assert {"cpu", "cu126", "cu128", "cu130", "rocm6.4", "rocm6.2.4", "xpu"} <= set(BACKENDS)
    assert len(set(BACKENDS)) == len(BACKENDS) == 49


def test_the_pytorch_family_is_routed_and_other_packages_are_not() -> None:
    for name in ("torch", "torchvision", "torchaudio", "triton", "pytorch-triton", "xformers"):
        assert canonicalize_name(name) in PACKAGES
    for name in ("numpy", "filelock", "vllm", "torch-scatter"):
        assert canonicalize_name(name) not in PACKAGES


def test_an_unknown_backend_is_an_error_listing_the_valid_ones() -> None:
    with pytest.raises(KilnError) as caught:
        check_mode("cu999", "`KILN_TORCH_BACKEND`")
    assert caught.value.message == "`KILN_TORCH_BACKEND`: unknown PyTorch backend `cu999`"
    assert caught.value.hint is not None
    assert "`auto`" in caught.value.hint and "`cu126`" in caught.value.hint
    assert check_mode(" cu126 ", "x") == "cu126"


# -- choosing backends ---------------------------------------------------------------------


def test_a_named_backend_is_the_only_index_whatever_the_machine() -> None:
    assert choose_backends("cu126", sys_platform="darwin", accelerator=None) == ("cu126",)
    assert choose_backends("cpu", sys_platform="linux", accelerator=cuda("580.1")) == ("cpu",)


def test_auto_without_a_gpu_is_cpu() -> None:
    assert choose_backends("auto", sys_platform="linux", accelerator=None) == ("cpu",)


def test_auto_with_a_550_driver_on_linux_searches_cuda_12_newest_first_then_cpu() -> None:
    chosen = choose_backends("auto", sys_platform="linux", accelerator=cuda("550.54.14"))
    # CUDA 13 needs driver 580; every CUDA 12 runs on 525.60.13 and newer.
    assert chosen[:4] == ("cu129", "cu128", "cu126", "cu125")
    assert "cu130" not in chosen and "cu132" not in chosen
    assert chosen[-1] == "cpu"
    assert "cu80" in chosen  # older toolkits run on newer drivers


def test_the_driver_table_boundaries_are_nvidias_minimums() -> None:
    def best(version: str, platform: str = "linux") -> str:
        return choose_backends("auto", sys_platform=platform, accelerator=cuda(version))[0]

    assert best("580.65.06") == "cu132"
    assert best("525.60.13") == "cu129"
    assert best("525.60.12") == "cu118"
    assert best("450.80.02") == "cu118"
    assert best("450.36.06") == "cu110"
    assert best("375.26") == "cu80"
    assert best("375.25") == "cpu"
    # Windows drivers are numbered differently.
    assert best("528.33", "win32") == "cu129"
    assert best("527.99", "win32") == "cu118"


def test_auto_on_macos_is_cpu_even_with_a_driver() -> None:
    assert choose_backends("auto", sys_platform="darwin", accelerator=cuda("580.1")) == ("cpu",)


def test_auto_with_an_amd_gpu_takes_the_rocm_builds_made_for_it() -> None:
    def chosen(architecture: str, platform: str = "linux") -> tuple[str, ...]:
        amd = Accelerator("amd", architecture, "test")
        return choose_backends("auto", sys_platform=platform, accelerator=amd)

    assert chosen("gfx1151") == ("rocm7.2", "cpu")
    assert chosen("gfx950") == ("rocm7.2", "rocm7.1", "rocm7.0", "cpu")
    assert chosen("gfx1100")[:4] == ("rocm7.2", "rocm7.1", "rocm7.0", "rocm6.4")
    assert chosen("gfx1100")[-1] == "cpu" and "rocm6.0" in chosen("gfx1100")
    assert chosen("gfx1100", "win32") == ("cpu",)


def test_auto_with_an_intel_gpu_is_xpu_on_linux_and_windows() -> None:
    xpu = Accelerator("xpu", source="test")
    assert choose_backends("auto", sys_platform="linux", accelerator=xpu) == ("xpu",)
    assert choose_backends("auto", sys_platform="win32", accelerator=xpu) == ("xpu",)
    assert choose_backends("auto", sys_platform="darwin", accelerator=xpu) == ("cpu",)


# -- detection --------------------------------------------------------------------------


def test_detection_reads_the_proc_driver_file(tmp_path: Path) -> None:
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    found = detect({}, root=tmp_path)
    assert found is not None and (found.kind, found.value) == ("cuda", "550.54.14")


def test_detection_prefers_the_sys_module_file(tmp_path: Path) -> None:
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    write(tmp_path, "sys/module/nvidia/version", "575.51.03\n")
    found = detect({}, root=tmp_path)
    assert found is not None and found.value == "575.51.03"
    assert found.source == str(tmp_path / "sys/module/nvidia/version")


def test_detection_finds_nothing_on_a_machine_without_gpu(tmp_path: Path) -> None:
    assert detect({}, root=tmp_path) is None


def test_detection_finds_an_intel_display_adapter_on_the_pci_bus(tmp_path: Path) -> None:
    write(tmp_path, "sys/bus/pci/devices/0000:00:01.0/class", "0x060400\n")  # a bridge
    write(tmp_path, "sys/bus/pci/devices/0000:00:01.0/vendor", "0x8086\n")
    write(tmp_path, "sys/bus/pci/devices/0000:01:00.0/class", "0x030000\n")  # NVIDIA, no driver
    write(tmp_path, "sys/bus/pci/devices/0000:01:00.0/vendor", "0x10de\n")
    assert detect({}, root=tmp_path) is None
    write(tmp_path, "sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n")
    write(tmp_path, "sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n")
    found = detect({}, root=tmp_path)
    assert found is not None and found.kind == "xpu"


def test_an_nvidia_driver_wins_over_an_intel_gpu(tmp_path: Path) -> None:
    write(tmp_path, "sys/bus/pci/devices/0000:00:02.0/class", "0x030000\n")
    write(tmp_path, "sys/bus/pci/devices/0000:00:02.0/vendor", "0x8086\n")
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    found = detect({}, root=tmp_path)
    assert found is not None and found.kind == "cuda"


def test_an_unreadable_driver_version_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path, "sys/module/nvidia/version", "garbage\n")
    with pytest.raises(KilnError) as caught:
        detect({}, root=tmp_path)
    assert str(tmp_path / "sys/module/nvidia/version") in caught.value.message
    assert "`garbage` is not an NVIDIA driver version" in caught.value.message
    assert caught.value.hint is not None and "KILN_CUDA_DRIVER_VERSION" in caught.value.hint


def test_the_variables_override_detection(tmp_path: Path) -> None:
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    found = detect({"KILN_CUDA_DRIVER_VERSION": "580.65.06"}, root=tmp_path)
    assert found is not None and found.value == "580.65.06"
    found = detect({"KILN_AMD_GPU_ARCHITECTURE": "gfx942"}, root=tmp_path)
    assert found is not None and (found.kind, found.value) == ("amd", "gfx942")
    with pytest.raises(KilnError, match="unknown AMD GPU architecture `gfx1`"):
        detect({"KILN_AMD_GPU_ARCHITECTURE": "gfx1"}, root=tmp_path)
    with pytest.raises(KilnError, match="`KILN_CUDA_DRIVER_VERSION`: `twelve`"):
        detect({"KILN_CUDA_DRIVER_VERSION": "twelve"}, root=tmp_path)


def test_the_test_root_variable_stands_in_for_the_machine(tmp_path: Path) -> None:
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    found = detect({"KILN_TEST_SYSTEM_ROOT": str(tmp_path)})
    assert found is not None and found.value == "550.54.14"


# -- index URLs -------------------------------------------------------------------------


def test_the_indexes_are_on_download_pytorch_org_by_default() -> None:
    indexes = backend_indexes("cu126", sys_platform="linux", environ={})
    assert [i.url for i in indexes] == ["https://download.pytorch.org/whl/cu126"]


def test_the_backend_url_variable_points_at_a_mirror() -> None:
    plain = {"KILN_TORCH_BACKEND_URL": "https://mirror.example/pytorch/whl/"}
    assert backend_indexes("cpu", sys_platform="linux", environ=plain)[0].url == (
        "https://mirror.example/pytorch/whl/cpu"
    )
    template = {"KILN_TORCH_BACKEND_URL": "https://repo.example/api/pypi/torch-{backend}/simple"}
    assert backend_indexes("rocm6.4", sys_platform="linux", environ=template)[0].url == (
        "https://repo.example/api/pypi/torch-rocm6.4/simple"
    )


def test_a_bad_backend_url_is_an_error_naming_the_variable() -> None:
    with pytest.raises(KilnError) as caught:
        backend_indexes("cpu", sys_platform="linux",
                        environ={"KILN_TORCH_BACKEND_URL": "https://host:99999/whl"})
    assert caught.value.message.startswith("`KILN_TORCH_BACKEND_URL`: invalid URL")


def test_auto_lists_every_fitting_index_in_search_order(tmp_path: Path) -> None:
    write(tmp_path, "proc/driver/nvidia/version", PROC_550)
    indexes = backend_indexes("auto", sys_platform="linux", environ={}, root=tmp_path)
    assert indexes[0].url == "https://download.pytorch.org/whl/cu129"
    assert indexes[-1].url == "https://download.pytorch.org/whl/cpu"


# -- routes -----------------------------------------------------------------------------


def test_a_backend_routes_only_the_pytorch_packages(tmp_path: Path) -> None:
    locations = resolve_locations(
        IndexOptions(index_url="https://pypi.example/simple", torch_backend="cpu"),
        environ={}, cwd=tmp_path,
    )
    torch = canonicalize_name("torch")
    numpy = canonicalize_name("numpy")
    assert [i.url for i in locations.indexes_for(torch)] == ["https://download.pytorch.org/whl/cpu"]
    assert locations.strategy_for(torch) == "unsafe-first-match"
    assert [i.url for i in locations.indexes_for(numpy)] == ["https://pypi.example/simple"]
    assert locations.strategy_for(numpy) == "first-index"
    # The routed index is known to the credential store and the build-environment key.
    assert "https://download.pytorch.org/whl/cpu" in [i.url for i in locations.all_indexes()]


def test_without_a_backend_nothing_is_routed(tmp_path: Path) -> None:
    locations = resolve_locations(IndexOptions(), environ={}, cwd=tmp_path)
    assert not locations.routed
    assert locations.indexes_for(canonicalize_name("torch")) == locations.indexes


def test_no_index_routes_nothing(tmp_path: Path) -> None:
    locations = resolve_locations(
        IndexOptions(no_index=True, torch_backend="cpu"), environ={}, cwd=tmp_path
    )
    assert not locations.routed and not locations.indexes


def test_the_variable_sets_the_backend_and_the_option_wins(tmp_path: Path) -> None:
    environ = {"KILN_TORCH_BACKEND": "cu126"}
    assert with_env_fallbacks(IndexOptions(), environ).torch_backend == "cu126"
    assert with_env_fallbacks(IndexOptions(torch_backend="cpu"), environ).torch_backend == "cpu"
    with pytest.raises(KilnError, match="`KILN_TORCH_BACKEND`: unknown PyTorch backend `gpu`"):
        with_env_fallbacks(IndexOptions(), {"KILN_TORCH_BACKEND": "gpu"})


def test_auto_chooses_for_the_target_platform(tmp_path: Path) -> None:
    write(tmp_path / "root", "proc/driver/nvidia/version", PROC_550)
    environ = {"KILN_TEST_SYSTEM_ROOT": str(tmp_path / "root"), "KILN_NO_CONFIG": "1"}
    options = IndexOptions(torch_backend="auto")
    torch = canonicalize_name("torch")
    linux = run_locations(options, environ=environ, cwd=tmp_path, sys_platform="linux")
    macos = run_locations(options, environ=environ, cwd=tmp_path, sys_platform="darwin")
    assert linux.indexes_for(torch)[0].url.endswith("/whl/cu129")
    assert [i.url for i in macos.indexes_for(torch)] == ["https://download.pytorch.org/whl/cpu"]


def test_a_backend_leaves_pips_configuration_in_force(tmp_path: Path) -> None:
    """``--torch-backend`` does not say where other packages come from."""
    environ = {"PIP_INDEX_URL": "https://mirror.example/simple", "PIP_CONFIG_FILE": "/dev/null",
               "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    locations = run_locations(IndexOptions(torch_backend="cpu"), environ=environ, cwd=tmp_path)
    assert [i.url for i in locations.indexes] == ["https://mirror.example/simple"]
    assert locations.routed



# -- configuration files ----------------------------------------------------------------


def file_environ(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "XDG_CONFIG_DIRS": str(tmp_path / "xdg-dirs"), "PIP_CONFIG_FILE": "/dev/null"}


def test_a_configuration_file_sets_the_backend_and_the_variable_wins(tmp_path: Path) -> None:
    (tmp_path / "kiln.toml").write_text('torch-backend = "cu126"\n')
    environ = file_environ(tmp_path)
    torch = canonicalize_name("torch")
    located = run_locations(IndexOptions(), environ=environ, cwd=tmp_path)
    assert [i.url for i in located.indexes_for(torch)] == [
        "https://download.pytorch.org/whl/cu126"
    ]
    located = run_locations(
        IndexOptions(), environ={**environ, "KILN_TORCH_BACKEND": "cpu"}, cwd=tmp_path
    )
    assert located.indexes_for(torch)[0].url.endswith("/whl/cpu")


def test_uv_toml_pip_table_sets_the_backend_beside_pips_configuration(tmp_path: Path) -> None:
    (tmp_path / "uv.toml").write_text('[pip]\ntorch-backend = "cpu"\n')
    environ = {**file_environ(tmp_path), "PIP_INDEX_URL": "https://mirror.example/simple"}
    located = run_locations(IndexOptions(), environ=environ, cwd=tmp_path)
    assert [i.url for i in located.indexes] == ["https://mirror.example/simple"]
    assert located.indexes_for(canonicalize_name("torch"))[0].url.endswith("/whl/cpu")


def test_an_unknown_backend_in_a_file_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "kiln.toml").write_text('[pip]\ntorch-backend = "cuda"\n')
    with pytest.raises(KilnError) as caught:
        run_locations(IndexOptions(), environ=file_environ(tmp_path), cwd=tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'kiln.toml'}: `torch-backend`: unknown PyTorch backend `cuda`"
    )
