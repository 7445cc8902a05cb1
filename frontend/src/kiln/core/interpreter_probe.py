"""The script kiln runs inside an interpreter to learn about it (see core/interpreter.py).

It runs in the *probed* interpreter, any Python 3.8 or newer, as ``python -I <this file>``,
so it uses the standard library only (kiln's own dependencies may not import there) and
no syntax newer than 3.8; its annotations stay strings, so that Python 3.6 and 3.7 get as
far as reporting their version, which kiln then refuses with a clear message. For the
interpreter kiln itself runs on, kiln imports it and calls ``marker_environment`` and
``tag_facts`` in process (one computation of markers and tags for every interpreter). As
a script it prints one JSON object of raw facts:
prefixes and install schemes, the PEP 508 marker environment, and what the interpreter's
wheel tags depend on (``tag_facts``); kiln computes the tags from those in its own process
(core/platformtags.py).
"""

import json
import os
import platform
import re
import sys
import sysconfig

SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")

#: ELF program header type of the program interpreter (the dynamic loader).
_PT_INTERP = 3


def marker_environment() -> "dict[str, str]":
    """The PEP 508 environment markers, computed as the specification defines them."""
    info = sys.implementation.version
    implementation_version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        implementation_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": implementation_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def elf_facts(path: str) -> "dict[str, object] | None":
    """The header fields of the ELF file at ``path`` that wheel tags depend on (class,
    byte order, machine, flags) and its program interpreter; None when it is no ELF file."""
    import struct

    try:
        with open(path, "rb") as handle:
            ident = handle.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return None
            elf_class, elf_data = ident[4], ident[5]
            if elf_class not in (1, 2) or elf_data not in (1, 2):
                return None
            order = "<" if elf_data == 1 else ">"
            # e_type e_machine e_version e_entry e_phoff e_shoff e_flags e_ehsize
            # e_phentsize e_phnum
            header = order + ("HHIIIIIHHH" if elf_class == 1 else "HHIQQQIHHH")
            fields = struct.unpack(header, handle.read(struct.calcsize(header)))
            machine, phoff, flags, phentsize, phnum = (
                fields[1], fields[4], fields[6], fields[8], fields[9]
            )
            entry = order + ("IIIIIIII" if elf_class == 1 else "IIQQQQQQ")
            interpreter = None
            for index in range(phnum):
                handle.seek(phoff + index * phentsize)
                program = struct.unpack(entry, handle.read(struct.calcsize(entry)))
                if program[0] != _PT_INTERP:
                    continue
                offset, size = (program[1], program[4]) if elf_class == 1 else (program[2], program[5])
                handle.seek(offset)
                interpreter = os.fsdecode(handle.read(min(size, 4096)).split(b"\0", 1)[0])
                break
    except (OSError, ValueError, struct.error):
        return None
    return {
        "class": elf_class,
        "data": elf_data,
        "machine": machine,
        "flags": flags,
        "interpreter": interpreter,
    }


def glibc_version() -> "list[int] | None":
    """The glibc version the interpreter runs with, None when it is not glibc."""
    text = None
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
        if found and len(found.split()) == 2:
            text = found.split()[1]
    except (AttributeError, OSError, ValueError):
        pass
    if text is None:  # a build without confstr's name: ask the C library itself
        try:
            import ctypes

            function = ctypes.CDLL(None).gnu_get_libc_version
            function.restype = ctypes.c_char_p
            text = function().decode("ascii")
        except Exception:
            return None
    match = re.match(r"(\d+)\.(\d+)", text)
    return [int(match.group(1)), int(match.group(2))] if match else None


def musl_version(loader: "str | None") -> "list[int] | None":
    """The musl version, asked of the interpreter's dynamic loader as PEP 656 describes;
    None when the loader is not musl's."""
    if not loader or "musl" not in os.path.basename(loader):
        return None
    import subprocess

    try:
        result = subprocess.run(
            [loader], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("musl"):
        return None
    match = re.match(r"Version (\d+)\.(\d+)", lines[1])
    return [int(match.group(1)), int(match.group(2))] if match else None


def mac_facts() -> "list[object] | None":
    """macOS version and machine; None elsewhere."""
    platform_name = sys.platform  # (a variable: the type checker knows only one platform)
    if platform_name != "darwin":
        return None
    release, _, machine = platform.mac_ver()
    if release.split(".")[:2] == ["10", "16"]:
        # Built with an old SDK, Python sees macOS 10.16: ask without the compatibility shim.
        import contextlib
        import subprocess

        with contextlib.suppress(OSError, subprocess.SubprocessError):
            release = subprocess.run(
                [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
                stdout=subprocess.PIPE, text=True, timeout=30, check=True,
                env={"SYSTEM_VERSION_COMPAT": "0"},
            ).stdout.strip()
    try:
        version = [int(part) for part in release.split(".")[:2]]
    except ValueError:
        return None
    if len(version) == 1:
        version.append(0)
    return [version, machine]


def tag_facts() -> "dict[str, object]":
    """What the interpreter's wheel tags (PEP 425) depend on."""
    from importlib.machinery import EXTENSION_SUFFIXES

    config = sysconfig.get_config_var
    py_debug = config("Py_DEBUG")
    if py_debug is None:  # Windows has no Py_DEBUG: look for the debug build's traces
        debug = hasattr(sys, "gettotalrefcount") or "_d.pyd" in EXTENSION_SUFFIXES
    else:
        debug = bool(py_debug)
    linux = sys.platform.startswith("linux")
    elf = elf_facts(sys.executable) if linux else None
    loader = elf["interpreter"] if elf else None
    return {
        "implementation": sys.implementation.name,
        "python_version": list(sys.version_info[:2]),
        "py_version_nodot": str(config("py_version_nodot") or "".join(map(str, sys.version_info[:2]))),
        "debug": debug,
        "free_threaded": bool(config("Py_GIL_DISABLED")),
        "ext_suffix": config("EXT_SUFFIX"),
        "system": platform.system(),
        "platform": sysconfig.get_platform(),
        "is_32bit": sys.maxsize <= 2**32,
        "elf": elf,
        "glibc": glibc_version() if linux else None,
        "musl": musl_version(loader if isinstance(loader, str) else None),
        "mac": mac_facts(),
    }


def main() -> None:
    marker = os.path.abspath(os.sep + "__kiln_prefix__")
    names = sysconfig.get_scheme_names()
    venv_scheme = "venv" if "venv" in names else "nt" if os.name == "nt" else "posix_prefix"
    fake = {
        "base": marker, "platbase": marker, "installed_base": marker, "installed_platbase": marker
    }
    raw = sysconfig.get_paths(venv_scheme, vars=fake)
    own = sysconfig.get_paths()
    bundled = []  # type: list[str]
    try:  # ensurepip's wheels, found without importing it
        from importlib.util import find_spec

        spec = find_spec("ensurepip")
        if spec is not None and spec.origin:
            folder = os.path.join(os.path.dirname(spec.origin), "_bundled")
            bundled = [
                os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".whl")
            ]
    except Exception:
        pass
    print(json.dumps({
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", sys.executable),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": list(sys.version_info[:3]),
        "version_string": platform.python_version(),
        "implementation": sys.implementation.name,
        "implementation_display": platform.python_implementation(),
        "venv_scheme": {k: os.path.relpath(raw[k], marker) for k in SCHEME_KEYS},
        "paths": {k: own[k] for k in SCHEME_KEYS},
        "markers": marker_environment(),
        "tag_facts": tag_facts(),
        "bundled_wheels": bundled,
    }))


if __name__ == "__main__":
    main()
