"""The wheel tags an interpreter supports, computed from the facts its probe reported.

The probe (core/interpreter_probe.py) runs inside the interpreter and reports raw facts:
implementation, version, ABI flags, ``sysconfig.get_platform()``, the C library and, on
macOS, the OS version. kiln turns them into the ordered tag list in its own process, with
``packaging``'s parametrised functions (``cpython_tags``, ``generic_tags``,
``compatible_tags``, ``mac_platforms``) and its own expansion of the Linux platforms: the
plain ``linux_<arch>`` first (a wheel built on this very machine), then ``manylinux_2_N``
(PEP 600) from the interpreter's glibc down to 2.5 on x86 (2.17 elsewhere), with the
legacy names ``manylinux2014``/``manylinux2010``/``manylinux1`` next to 2.17/2.12/2.5,
then ``musllinux_1_N`` (PEP 656) from its musl down to 1.0. The order is the one
``packaging`` 26.3 and later (pip 26.3 and later) gives for the same interpreter; older
ones put ``linux_<arch>`` last.

The running interpreter goes through the same computation: its facts are gathered in
process by the probe's own functions (:func:`running_facts`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from packaging.tags import Tag

#: ``sys.implementation.name`` to its PEP 425 abbreviation.
_SHORT_NAMES = {
    "python": "py",
    "cpython": "cp",
    "pypy": "pp",
    "ironpython": "ip",
    "jython": "jy",
}

#: Architectures whose manylinux wheels need no further check of the interpreter's binary.
_MANYLINUX_ARCHS = frozenset(
    {"x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64", "riscv64"}
)
#: The legacy manylinux names (PEP 513, 571, 599) of three glibc versions.
_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
#: Minors assumed for a glibc major older than the running one (as ``packaging`` does).
_LAST_GLIBC_MINOR = 50

# ELF header values (for the 32-bit ABI checks of manylinux).
_ELFCLASS32 = 1
_ELFDATA2LSB = 1
_EM_386 = 3
_EM_ARM = 40
_EF_ARM_ABIMASK = 0xFF000000
_EF_ARM_ABI_VER5 = 0x05000000
_EF_ARM_ABI_FLOAT_HARD = 0x00000400


class ElfHeader(NamedTuple):
    """The header fields of the interpreter's binary that manylinux checks depend on."""

    elf_class: int
    data: int
    machine: int
    flags: int

    @property
    def is_i686(self) -> bool:
        return (self.elf_class, self.data, self.machine) == (_ELFCLASS32, _ELFDATA2LSB, _EM_386)

    @property
    def is_armhf(self) -> bool:
        return (
            (self.elf_class, self.data, self.machine) == (_ELFCLASS32, _ELFDATA2LSB, _EM_ARM)
            and self.flags & _EF_ARM_ABIMASK == _EF_ARM_ABI_VER5
            and self.flags & _EF_ARM_ABI_FLOAT_HARD == _EF_ARM_ABI_FLOAT_HARD
        )


class TagFacts(NamedTuple):
    """What an interpreter's wheel tags depend on, as its probe reported them."""

    #: ``sys.implementation.name``.
    implementation: str
    #: ``sys.version_info[:2]``.
    python_version: tuple[int, int]
    #: ``sysconfig``'s ``py_version_nodot`` (``312``).
    py_version_nodot: str
    #: A debug build (``Py_DEBUG``): CPython's ABI gets a ``d``.
    debug: bool
    #: A free-threaded build (``Py_GIL_DISABLED``): CPython's ABI gets a ``t``.
    free_threaded: bool
    #: ``sysconfig``'s ``EXT_SUFFIX``: the ABI of other implementations.
    ext_suffix: str | None
    #: ``platform.system()``.
    system: str
    #: ``sysconfig.get_platform()``.
    platform: str
    #: A 32-bit interpreter (``sys.maxsize``), possibly on a 64-bit kernel.
    is_32bit: bool
    #: The header of the interpreter's binary (Linux).
    elf: ElfHeader | None
    #: The glibc version the interpreter runs with (Linux with glibc).
    glibc: tuple[int, int] | None
    #: The musl version of the interpreter's dynamic loader (Linux with musl).
    musl: tuple[int, int] | None
    #: macOS version and ``platform.mac_ver()``'s machine (macOS).
    mac: tuple[tuple[int, int], str] | None

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> TagFacts:
        """The facts from the probe's JSON (or kiln's cache of it); raises ``ValueError``,
        ``KeyError``, ``TypeError`` or ``AssertionError`` on anything malformed."""
        elf = data["elf"]
        mac = data["mac"]
        ext_suffix = data["ext_suffix"]
        return cls(
            implementation=_text(data["implementation"]),
            python_version=_pair(data["python_version"]),
            py_version_nodot=_text(data["py_version_nodot"]),
            debug=_flag(data["debug"]),
            free_threaded=_flag(data["free_threaded"]),
            ext_suffix=None if ext_suffix is None else _text(ext_suffix),
            system=_text(data["system"]),
            platform=_text(data["platform"]),
            is_32bit=_flag(data["is_32bit"]),
            elf=None if elf is None else _elf(elf),
            glibc=None if data["glibc"] is None else _pair(data["glibc"]),
            musl=None if data["musl"] is None else _pair(data["musl"]),
            mac=None if mac is None else _mac(mac),
        )

    def to_json(self) -> dict[str, object]:
        elf = self.elf
        return {
            "implementation": self.implementation,
            "python_version": list(self.python_version),
            "py_version_nodot": self.py_version_nodot,
            "debug": self.debug,
            "free_threaded": self.free_threaded,
            "ext_suffix": self.ext_suffix,
            "system": self.system,
            "platform": self.platform,
            "is_32bit": self.is_32bit,
            "elf": None if elf is None else {
                "class": elf.elf_class, "data": elf.data, "machine": elf.machine,
                "flags": elf.flags,
            },
            "glibc": None if self.glibc is None else list(self.glibc),
            "musl": None if self.musl is None else list(self.musl),
            "mac": None if self.mac is None else [list(self.mac[0]), self.mac[1]],
        }


def _text(value: object) -> str:
    assert isinstance(value, str)
    return value


def _flag(value: object) -> bool:
    assert isinstance(value, bool)
    return value


def _number(value: object) -> int:
    assert isinstance(value, int) and not isinstance(value, bool)
    return value


def _pair(value: object) -> tuple[int, int]:
    assert isinstance(value, list) and len(value) == 2
    return _number(value[0]), _number(value[1])


def _elf(value: object) -> ElfHeader:
    assert isinstance(value, dict)
    return ElfHeader(
        _number(value["class"]), _number(value["data"]), _number(value["machine"]),
        _number(value["flags"]),
    )


def _mac(value: object) -> tuple[tuple[int, int], str]:
    assert isinstance(value, list) and len(value) == 2
    return _pair(value[0]), _text(value[1])


def supported_tags(facts: TagFacts) -> list[Tag]:
    """The wheel tags the interpreter described by ``facts`` supports, most preferred
    first: the order ``sys_tags()`` of ``packaging`` 26.3 and later gives inside that
    interpreter."""
    from packaging import tags

    platforms = platform_tags(facts)
    name = _SHORT_NAMES.get(facts.implementation) or facts.implementation
    version = facts.python_version
    result: list[Tag]
    interpreter: str | None
    if name == "cp":
        result = list(tags.cpython_tags(version, cpython_abis(facts), platforms))
        interpreter = "cp" + facts.py_version_nodot
    else:
        result = list(tags.generic_tags(name + facts.py_version_nodot, generic_abis(facts),
                                        platforms))
        interpreter = "pp3" if name == "pp" else None
    result.extend(tags.compatible_tags(version, interpreter, platforms))
    return result


def cpython_abis(facts: TagFacts) -> list[str]:
    """CPython's ABI tags: ``cp`` and the version, ``t`` when free-threaded, ``d`` for a
    debug build, which loads the ABI without ``d`` as well."""
    version = "".join(map(str, facts.python_version))
    threading = "t" if facts.free_threaded and facts.python_version >= (3, 13) else ""
    if facts.debug:
        return [f"cp{version}{threading}d", f"cp{version}{threading}"]
    return [f"cp{version}{threading}"]


def generic_abis(facts: TagFacts) -> list[str]:
    """The ABI tag of another implementation, from its extension-module suffix
    (``.pypy310-pp73-x86_64-linux-gnu.so`` is ``pypy310_pp73``)."""
    suffix = facts.ext_suffix
    if not suffix or not suffix.startswith("."):
        return []
    parts = suffix.split(".")
    if len(parts) < 3:  # ".pyd": the ABI the suffix does not name is CPython's
        return cpython_abis(facts)
    soabi = parts[1]
    fields = soabi.split("-")
    if soabi.startswith("cpython") and len(fields) > 1 and fields[1]:
        abi = "cp" + fields[1]
    elif soabi.startswith("cp"):
        abi = fields[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(fields[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(fields[:3])
    elif soabi:
        abi = soabi
    else:
        return []
    return [_normalize(abi)]


def platform_tags(facts: TagFacts) -> list[str]:
    """The platform tags of the interpreter, most preferred first."""
    from packaging import tags

    if facts.system == "Darwin" and facts.mac is not None:
        version, machine = facts.mac
        if facts.is_32bit:
            machine = "ppc" if machine.startswith("ppc") else "i386"
        return list(tags.mac_platforms(version, machine))
    if facts.system == "Linux":
        return linux_platforms(facts)
    return [_normalize(facts.platform)]


def linux_platforms(facts: TagFacts) -> list[str]:
    """The plain ``linux`` tags of the interpreter, then manylinux, then musllinux."""
    linux = _normalize(facts.platform)
    if not linux.startswith("linux_"):
        return [linux]
    if facts.is_32bit:  # a 32-bit userland on a 64-bit kernel
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    return [
        *(f"linux_{arch}" for arch in archs),
        *manylinux_platforms(facts.glibc, archs, facts.elf),
        *musllinux_platforms(facts.musl, archs),
    ]


def manylinux_platforms(
    glibc: tuple[int, int] | None, archs: Sequence[str], elf: ElfHeader | None
) -> Iterator[str]:
    """``manylinux_2_N_<arch>`` (PEP 600) from ``glibc`` down to the oldest glibc of the
    manylinux tags: 2.5 on x86, 2.17 elsewhere; a legacy name after its glibc version."""
    if glibc is None or not _manylinux_abi(archs, elf):
        return
    oldest = (2, 5) if {"x86_64", "i686"} & set(archs) else (2, 17)
    for arch in archs:
        for major in range(glibc[0], oldest[0] - 1, -1):
            newest = glibc[1] if major == glibc[0] else _LAST_GLIBC_MINOR
            lowest = oldest[1] if major == oldest[0] else 0
            for minor in range(newest, lowest - 1, -1):
                yield f"manylinux_{major}_{minor}_{arch}"
                legacy = _LEGACY_MANYLINUX.get((major, minor))
                if legacy is not None:
                    yield f"{legacy}_{arch}"


def _manylinux_abi(archs: Sequence[str], elf: ElfHeader | None) -> bool:
    """Whether the interpreter's binary has the ABI manylinux wheels of ``archs`` need:
    32-bit ARM must be hard-float, i686 a 32-bit x86 binary."""
    if "armv7l" in archs:
        return elf is not None and elf.is_armhf
    if "i686" in archs:
        return elf is not None and elf.is_i686
    return any(arch in _MANYLINUX_ARCHS for arch in archs)


def musllinux_platforms(musl: tuple[int, int] | None, archs: Sequence[str]) -> Iterator[str]:
    """``musllinux_1_N_<arch>`` (PEP 656) from the interpreter's musl down to 1.0."""
    if musl is None:
        return
    for arch in archs:
        for minor in range(musl[1], -1, -1):
            yield f"musllinux_{musl[0]}_{minor}_{arch}"


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def running_facts() -> TagFacts:
    """The facts of the running interpreter, gathered in process by the same functions
    the probe runs inside other interpreters."""
    from kiln.core import interpreter_probe

    return TagFacts.from_json(interpreter_probe.tag_facts())
