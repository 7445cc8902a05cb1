"""``--torch-backend``: which PyTorch index serves the PyTorch packages.

PyTorch publishes one build of ``torch`` (and of the packages built against it) per
accelerator, each on its own index (``https://download.pytorch.org/whl/cpu``, ``.../cu126``,
...), with the accelerator in the local version label (``2.5.1+cpu``, ``2.5.1+cu126``).
A backend routes the packages of :data:`PACKAGES` to those indexes only; every other
package keeps coming from the configured indexes.

``auto`` picks the backends from the machine: the NVIDIA driver version (every CUDA
version the driver supports, newest first, then ``cpu``), else the AMD GPU architecture
(the ROCm versions built for it, newest first, then ``cpu``), else an Intel GPU (``xpu``),
else ``cpu``. Only Linux and Windows targets have GPU builds; any other target gets ``cpu``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, NamedTuple

from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from kiln.core.index.config import Index, location_to_url
from kiln.errors import KilnError

#: The packages a backend routes: those the PyTorch indexes build per accelerator, and
#: the PyTorch-built companions they pin (``triton``, ``pytorch-triton``, ...).
PACKAGES: frozenset[NormalizedName] = frozenset(
    NormalizedName(name)
    for name in (
        "fbgemm-gpu", "fbgemm-gpu-genai", "pytorch-triton", "pytorch-triton-rocm",
        "pytorch-triton-xpu", "torch", "torch-tensorrt", "torchao", "torcharrow",
        "torchaudio", "torchcodec", "torchcsprng", "torchdistx", "torchrec", "torchserve",
        "torchtext", "torchtune", "torchvision", "triton", "triton-rocm", "triton-xpu",
        "xformers",
    )
)

_CUDA = (
    "cu132", "cu130", "cu129", "cu128", "cu126", "cu125", "cu124", "cu123", "cu122",
    "cu121", "cu120", "cu118", "cu117", "cu116", "cu115", "cu114", "cu113", "cu112",
    "cu111", "cu110", "cu102", "cu101", "cu100", "cu92", "cu91", "cu90", "cu80",
)
_ROCM = (
    "rocm7.2", "rocm7.1", "rocm7.0", "rocm6.4", "rocm6.3", "rocm6.2.4", "rocm6.2",
    "rocm6.1", "rocm6.0", "rocm5.7", "rocm5.6", "rocm5.5", "rocm5.4.2", "rocm5.4",
    "rocm5.3", "rocm5.2", "rocm5.1.1", "rocm4.2", "rocm4.1", "rocm4.0.1",
)
#: Every backend, named as the PyTorch index that serves it.
BACKENDS: tuple[str, ...] = ("cpu", *_CUDA, *_ROCM, "xpu")
#: What ``--torch-backend`` accepts.
MODES: tuple[str, ...] = ("auto", *BACKENDS)

#: Where the PyTorch indexes are: ``{backend}`` stands for the backend's name.
DEFAULT_URL = "https://download.pytorch.org/whl/{backend}"


def _cuda_table(rows: tuple[tuple[str, str], ...]) -> tuple[tuple[str, Version], ...]:
    """``(first backend .. last backend, minimum driver)`` rows, expanded per backend."""
    table: list[tuple[str, Version]] = []
    for span, driver in rows:
        first, _, last = span.partition("..")
        start = _CUDA.index(first)
        stop = _CUDA.index(last or first)
        table += [(backend, Version(driver)) for backend in _CUDA[start : stop + 1]]
    return tuple(table)


#: The oldest driver that runs each CUDA version, newest CUDA first: NVIDIA's CUDA
#: toolkit release notes (minimum driver versions for each CUDA minor version).
LINUX_DRIVERS = _cuda_table((
    ("cu132..cu130", "580"),
    ("cu129..cu120", "525.60.13"),
    ("cu118..cu111", "450.80.02"),
    ("cu110", "450.36.06"),
    ("cu102", "440.33"),
    ("cu101", "418.39"),
    ("cu100", "410.48"),
    ("cu92", "396.26"),
    ("cu91", "390.46"),
    ("cu90", "384.81"),
    ("cu80", "375.26"),
))
WINDOWS_DRIVERS = _cuda_table((
    ("cu132..cu130", "580"),
    ("cu129..cu120", "528.33"),
    ("cu118..cu111", "452.39"),
    ("cu110", "451.22"),
    ("cu102", "441.22"),
    ("cu101", "418.96"),
    ("cu100", "411.31"),
    ("cu92", "398.26"),
    ("cu91", "391.29"),
    ("cu90", "385.54"),
    ("cu80", "376.51"),
))

#: AMD GPU architectures, oldest first: with several GPUs, the oldest decides.
AMD_ARCHITECTURES: tuple[str, ...] = (
    "gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100",
    "gfx1101", "gfx1102", "gfx1150", "gfx1151", "gfx1200", "gfx1201",
)
_ROCM7 = frozenset(AMD_ARCHITECTURES) - {"gfx1150", "gfx1151"}
_ROCM64 = _ROCM7 - {"gfx950"}
_ROCM62 = frozenset({"gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"})
#: The architectures each ROCm build of PyTorch was compiled for, newest ROCm first
#: (``torch.cuda.get_arch_list()`` of each build). Older ROCm builds are never chosen
#: by ``auto``; they can still be named.
ROCM_ARCHITECTURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("rocm7.2", frozenset(AMD_ARCHITECTURES)),
    ("rocm7.1", _ROCM7),
    ("rocm7.0", _ROCM7),
    ("rocm6.4", _ROCM64),
    ("rocm6.3", _ROCM64),
    ("rocm6.2.4", _ROCM64),
    ("rocm6.2", _ROCM62),
    ("rocm6.1", _ROCM62 | {"gfx1101"}),
    ("rocm6.0", _ROCM62),
)

_PCI_DISPLAY_CLASS = 0x03_0000
_PCI_CLASS_MASK = 0xFF_0000
_PCI_VENDOR_INTEL = 0x8086
#: How long a detection program (``nvidia-smi``, ``rocm_agent_enumerator``) may take.
_PROGRAM_TIMEOUT = 20


class Accelerator(NamedTuple):
    """What ``auto`` found: an NVIDIA driver, an AMD GPU or an Intel GPU."""

    kind: Literal["cuda", "amd", "xpu"]
    #: The NVIDIA driver version (``550.144.03``) or the AMD architecture (``gfx1100``).
    value: str = ""
    #: Where it was read, for messages.
    source: str = ""

    def describe(self) -> str:
        if self.kind == "cuda":
            return f"NVIDIA driver {self.value} (from {self.source})"
        if self.kind == "amd":
            return f"AMD GPU {self.value} (from {self.source})"
        return f"Intel GPU (from {self.source})"


def check_mode(value: str, where: str) -> str:
    """``value`` when it is ``auto`` or a backend; else a :class:`KilnError` naming ``where``."""
    mode = value.strip()
    if mode not in MODES:
        raise KilnError(
            f"{where}: unknown PyTorch backend `{mode}`",
            hint="use one of " + ", ".join(f"`{m}`" for m in MODES),
        )
    return mode


def backend_indexes(
    mode: str,
    *,
    sys_platform: str,
    environ: Mapping[str, str],
    root: Path | None = None,
) -> tuple[Index, ...]:
    """The PyTorch indexes of ``mode`` for a target whose ``sys_platform`` is given, in
    search order. ``root`` stands for ``/`` when ``auto`` reads driver files (tests)."""
    accelerator = detect(environ, root=root) if mode == "auto" else None
    template = environ.get("KILN_TORCH_BACKEND_URL", "").strip() or DEFAULT_URL
    return tuple(
        _index(template, backend)
        for backend in choose_backends(mode, sys_platform=sys_platform, accelerator=accelerator)
    )


def choose_backends(
    mode: str, *, sys_platform: str, accelerator: Accelerator | None
) -> tuple[str, ...]:
    """The backends searched for ``mode``, best first (``auto`` uses ``accelerator``)."""
    if mode != "auto":
        return (mode,)
    if accelerator is None:
        return ("cpu",)
    if accelerator.kind == "cuda" and sys_platform in ("linux", "win32"):
        table = LINUX_DRIVERS if sys_platform == "linux" else WINDOWS_DRIVERS
        driver = Version(accelerator.value)
        return (*(backend for backend, oldest in table if driver >= oldest), "cpu")
    if accelerator.kind == "amd" and sys_platform == "linux":
        return (
            *(backend for backend, built in ROCM_ARCHITECTURES if accelerator.value in built),
            "cpu",
        )
    if accelerator.kind == "xpu" and sys_platform in ("linux", "win32"):
        return ("xpu",)
    return ("cpu",)


def _index(template: str, backend: str) -> Index:
    if "{backend}" in template:
        location = template.replace("{backend}", backend)
    else:
        location = template.rstrip("/") + "/" + backend
    where = "`KILN_TORCH_BACKEND_URL`" if template != DEFAULT_URL else "PyTorch index"
    return Index(
        url=location_to_url(location, Path.cwd(), where=where),
        origin=f"--torch-backend ({backend})",
    )


# -- detection ----------------------------------------------------------------------------


def detect(environ: Mapping[str, str], *, root: Path | None = None) -> Accelerator | None:
    """The accelerator of this machine, in this order: ``KILN_CUDA_DRIVER_VERSION``,
    ``KILN_AMD_GPU_ARCHITECTURE``, the NVIDIA driver (``/sys/module/nvidia/version``,
    ``/proc/driver/nvidia/version``, ``nvidia-smi``), the AMD GPUs
    (``rocm_agent_enumerator``), an Intel display adapter on the PCI bus.

    With ``root`` (or ``KILN_TEST_SYSTEM_ROOT``), the files are read below it instead of
    ``/`` and no program is run: a test's stand-in for the machine.
    """
    forced = environ.get("KILN_CUDA_DRIVER_VERSION", "").strip()
    if forced:
        return Accelerator("cuda", _driver_version(forced, "`KILN_CUDA_DRIVER_VERSION`"),
                           "`KILN_CUDA_DRIVER_VERSION`")
    forced = environ.get("KILN_AMD_GPU_ARCHITECTURE", "").strip()
    if forced:
        if forced not in AMD_ARCHITECTURES:
            raise KilnError(
                f"`KILN_AMD_GPU_ARCHITECTURE`: unknown AMD GPU architecture `{forced}`",
                hint="use one of " + ", ".join(f"`{a}`" for a in AMD_ARCHITECTURES),
            )
        return Accelerator("amd", forced, "`KILN_AMD_GPU_ARCHITECTURE`")
    if root is None and environ.get("KILN_TEST_SYSTEM_ROOT"):
        root = Path(environ["KILN_TEST_SYSTEM_ROOT"])
    programs = root is None
    base = root or Path("/")
    return (
        _nvidia_files(base)
        or (_nvidia_smi() if programs else None)
        or (_rocm_agents() if programs else None)
        or _intel_gpu(base)
    )


def _nvidia_files(base: Path) -> Accelerator | None:
    module = base / "sys" / "module" / "nvidia" / "version"
    text = _read(module)
    if text is not None:
        return Accelerator("cuda", _driver_version(text.strip(), f"`{module}`"), str(module))
    proc = base / "proc" / "driver" / "nvidia" / "version"
    text = _read(proc)
    if text is not None:
        # `NVRM version: NVIDIA UNIX ... Kernel Module for x86_64  550.144.03  Release ...`:
        # the version is the second field separated by two spaces.
        fields = text.splitlines()[0].split("  ") if text else []
        if len(fields) > 1 and fields[1].strip():
            return Accelerator("cuda", _driver_version(fields[1].strip(), f"`{proc}`"), str(proc))
    return None


def _nvidia_smi() -> Accelerator | None:
    output = _run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"])
    lines = output.split() if output else []
    if not lines:
        return None
    return Accelerator("cuda", _driver_version(lines[0], "`nvidia-smi`"), "nvidia-smi")


def _rocm_agents() -> Accelerator | None:
    output = _run(["rocm_agent_enumerator"])
    found = {line.strip() for line in (output or "").splitlines()} & set(AMD_ARCHITECTURES)
    if not found:
        return None
    oldest = min(found, key=AMD_ARCHITECTURES.index)
    return Accelerator("amd", oldest, "rocm_agent_enumerator")


def _intel_gpu(base: Path) -> Accelerator | None:
    devices = base / "sys" / "bus" / "pci" / "devices"
    try:
        entries = sorted(devices.iterdir())
    except OSError:
        return None
    for device in entries:
        pci_class = _hex(_read(device / "class"))
        vendor = _hex(_read(device / "vendor"))
        if (
            pci_class is not None
            and (pci_class & _PCI_CLASS_MASK) == _PCI_DISPLAY_CLASS
            and vendor == _PCI_VENDOR_INTEL
        ):
            return Accelerator("xpu", source=str(device))
    return None


def _driver_version(text: str, where: str) -> str:
    try:
        Version(text)
    except InvalidVersion:
        raise KilnError(
            f"{where}: `{text[:80]}` is not an NVIDIA driver version",
            hint="set `KILN_CUDA_DRIVER_VERSION` (e.g. `550.144.03`), or name a backend "
            "with `--torch-backend` (e.g. `cu126` or `cpu`)",
        ) from None
    return text


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _hex(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip().removeprefix("0x"), 16)
    except ValueError:
        return None


def _run(command: list[str]) -> str | None:
    """The standard output of ``command`` when it exists and succeeds, else None."""
    program = shutil.which(command[0])
    if program is None:
        return None
    try:
        result = subprocess.run(
            [program, *command[1:]], capture_output=True, text=True, errors="replace",
            timeout=_PROGRAM_TIMEOUT, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None
