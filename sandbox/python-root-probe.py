"""What of this machine the process sandbox's root filesystem needs for this Python: run by
sandbox/python-root.ts with the interpreter the sandbox will use, as the caller, outside any
sandbox (trusted code: it reads Python's own files and the loader's cache, and loads none of
them). Prints one JSON object:
  executable   the interpreter, as sys.executable names it
  directories  what is bound whole: the standard library, lib-dynload, numpy (and numpy.libs)
  hidden       site-packages directories inside those, to cover with an empty tmpfs
  libraries    every shared library the interpreter, its extension modules and numpy's need,
               and those the runner loads by name (RUNNER_LIBRARIES), by the path the dynamic
               loader looks it up under (the ELF interpreter among them)
Libraries are found by reading the ELF files' DT_NEEDED entries, not by loading them: importing
every extension module to see what gets mapped costs half a second of CPU per sandbox opened.
"""

import importlib.util
import json
import mmap
import os
import site
import struct
import subprocess
import sys
import sysconfig

PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 1, 5, 15, 29
# Where glibc's loader looks when neither the cache nor a run path names a library.
# Loaded by sandbox/runner.py through ctypes (libseccomp builds each program's syscall filter);
# bound when this machine has them.
RUNNER_LIBRARIES = ("libseccomp.so.2",)
DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


class Elf:
    """The parts of an ELF file the loader reads to find its libraries."""

    def __init__(self, path):
        self.path = path
        self.interpreter = None
        self.needed = []
        self.run_paths = []
        with open(path, "rb") as file:
            # Mapped, not read: numpy's core module alone is megabytes, of which a few pages matter.
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if data[:4] != b"\x7fELF":
            raise ValueError("not ELF")
        self.wide = data[4] == 2
        order = "<" if data[5] == 1 else ">"
        if self.wide:
            phoff, = struct.unpack_from(order + "Q", data, 0x20)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
            segment = order + "IIQQQQ"  # type, flags, offset, vaddr, paddr, filesz
            entry = order + "qQ"
        else:
            phoff, = struct.unpack_from(order + "I", data, 0x1C)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
            segment = order + "IIIII"  # type, offset, vaddr, paddr, filesz
            entry = order + "iI"
        loads, dynamic = [], None
        for index in range(phnum):
            fields = struct.unpack_from(segment, data, phoff + index * phentsize)
            kind, offset, vaddr, size = (fields[0], fields[2], fields[3], fields[5]) if self.wide else (fields[0], fields[1], fields[2], fields[4])
            if kind == PT_LOAD:
                loads.append((vaddr, offset, size))
            elif kind == PT_DYNAMIC:
                dynamic = (offset, size)
            elif kind == PT_INTERP:
                self.interpreter = data[offset:offset + size].rstrip(b"\0").decode()
        if dynamic is None:
            return
        tags, strtab = [], None
        step = struct.calcsize(entry)
        for at in range(dynamic[0], dynamic[0] + dynamic[1], step):
            tag, value = struct.unpack_from(entry, data, at)
            if tag == 0:
                break
            if tag == DT_STRTAB:
                strtab = next((value - vaddr + offset for vaddr, offset, size in loads if vaddr <= value < vaddr + size), None)
            tags.append((tag, value))
        if strtab is None:
            return

        def text(at):
            return data[strtab + at:data.find(b"\0", strtab + at)].decode()

        origin = os.path.dirname(path)
        for tag, value in tags:
            if tag == DT_NEEDED:
                self.needed.append(text(value))
            elif tag in (DT_RPATH, DT_RUNPATH):
                self.run_paths += [part.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for part in text(value).split(":") if part]


class LoadedByName:
    """Libraries nothing links to but the runner opens by name, looked up as DT_NEEDED ones."""

    def __init__(self, names):
        self.needed = list(names)
        self.run_paths = []


def loader_cache(wide):
    """soname -> path, as `ldconfig -p` lists the loader's cache, for this word size."""
    names = {}
    for command in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            listed = subprocess.run([command, "-p"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        for line in listed.stdout.splitlines():
            name, arrow, path = line.strip().partition(" => ")
            if not arrow:
                continue
            soname, _, flags = name.partition(" (")
            if ("64" in flags) == wide:  # "libc6,x86-64" or "libc6" (32-bit)
                names.setdefault(soname, path)
        break
    return names


def shared_objects(directory):
    for parent, _, names in os.walk(directory):
        for name in names:
            if ".so" in name:
                yield os.path.join(parent, name)


def main():
    paths = sysconfig.get_paths()
    stdlib = {os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib")}
    dynload = os.path.join(os.path.realpath(paths["platstdlib"]), "lib-dynload")
    spec = importlib.util.find_spec("numpy")  # found, not imported: importing it costs 0.2 s
    if spec is None or not spec.origin:
        raise SystemExit("numpy is not installed for this Python")
    numpy_dir = os.path.dirname(os.path.realpath(spec.origin))
    directories = set(stdlib) | {numpy_dir}
    for extra in (dynload, numpy_dir + ".libs"):  # numpy.libs: a wheel's bundled OpenBLAS
        if os.path.isdir(extra):
            directories.add(extra)
    # Packages installed beside the standard library (pyenv, python.org builds) are the host's,
    # not Python's: hidden, but for numpy, bound back on top.
    site_dirs = {os.path.realpath(path) for path in site.getsitepackages()}
    hidden = sorted(path for path in site_dirs if os.path.isdir(path) and any(path.startswith(root + os.sep) for root in stdlib))

    executable = Elf(os.path.realpath(sys.executable))
    cache = loader_cache(executable.wide)
    libraries = [executable.interpreter] if executable.interpreter else []
    pending = [executable, LoadedByName(RUNNER_LIBRARIES)]
    for directory in (dynload, numpy_dir, numpy_dir + ".libs"):
        for path in shared_objects(directory) if os.path.isdir(directory) else ():
            try:
                pending.append(Elf(path))
            except (OSError, ValueError, struct.error):
                pass
    seen = set()
    while pending:
        elf = pending.pop()
        for soname in elf.needed:
            if soname in seen:
                continue
            seen.add(soname)
            if "/" in soname:
                path = soname
            else:
                candidates = [os.path.join(directory, soname) for directory in elf.run_paths]
                candidates += [cache[soname]] if soname in cache else []
                candidates += [os.path.join(directory, soname) for directory in DEFAULT_DIRS]
                path = next((candidate for candidate in candidates if os.path.exists(candidate)), None)
            if path is None:
                continue  # the host lacks it too: what needs it fails in the sandbox as it does here
            libraries.append(path)
            try:
                pending.append(Elf(os.path.realpath(path)))
            except (OSError, ValueError, struct.error):
                pass
    print(json.dumps({
        "executable": sys.executable,
        "directories": sorted(directories),
        "hidden": hidden,
        "libraries": libraries,
    }))


if __name__ == "__main__":
    main()
