"""Memory between steps: give back to the system what a step freed but its allocators kept.

A step's frames are gone when it returns, but not its pages. Two allocators keep them:

* **polars' jemalloc** (polars on Linux allocates through its own, symbol-prefixed
  jemalloc: ``dirty_decay_ms:500,muzzy_decay_ms:1000`` with a background thread). Freed
  pages go back over the next ~1.5 s, then lazily (``MADV_FREE``: still counted in RSS
  until the kernel needs them). The next step starts on top of them and, at 10M messages,
  peaks on top of them (docs/architecture.md "Memory between steps").
* **glibc malloc** (Python objects, numpy, scikit-learn, pyarrow's buffers): free chunks
  below the top of a heap, and the heaps of the partition threads' arenas, stay mapped.

:func:`release_freed_memory` purges both: jemalloc's ``arena.<all>.purge`` through its
``mallctl`` and glibc's ``malloc_trim(0)``. jemalloc's ``mallctl`` is not exported by the
polars library (the symbols are prefixed and local), so it is found in the library's own
symbol table (``.symtab``) and called at its load address (``dl_iterate_phdr``); a build
without that symbol (stripped, another allocator, another system) is simply not purged.
Nothing here changes what a step computes: only where freed pages go, a few milliseconds
per call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import struct
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# KEFU_RELEASE_MEMORY=0 turns the release off: the purge calls a symbol polars does not export
# (module doc), so a future polars build that breaks it can be run around without a release.
DISABLE_ENV = "KEFU_RELEASE_MEMORY"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MALLCTL_ARENAS_ALL = 4096  # jemalloc 5: "arena.<i>" for every arena at once
_MALLCTL = b"_rjem_mallctl"  # polars' jemalloc prefix (tikv-jemallocator: "_rjem_")
_MALLCTL_TYPE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                 ctypes.c_void_p, ctypes.c_size_t)


def rss_mb() -> float:
    """Resident set size of this process, MB (what ``kefu bench`` samples); 0 without /proc."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Released:
    """RSS before and after one release, and which allocators were purged."""

    before_mb: float
    after_mb: float
    polars_purged: bool
    glibc_trimmed: bool

    @property
    def freed_mb(self) -> float:
        return self.before_mb - self.after_mb


def release_freed_memory() -> Released:
    """Return the pages freed so far to the system (call between steps, when the step's
    frames are gone): polars' jemalloc purged, glibc's heaps trimmed. Never raises."""
    before = rss_mb()
    if os.environ.get(DISABLE_ENV, "").strip() in ("0", "no", "false", "off"):
        return Released(before, before, False, False)
    purged = purge_polars_allocator()
    trimmed = trim_glibc()
    return Released(before, rss_mb(), purged, trimmed)


def purge_polars_allocator() -> bool:
    """Purge every arena of polars' jemalloc (dirty and lazily freed pages); False when this
    polars build has no reachable jemalloc ``mallctl``."""
    fn = _polars_mallctl()
    if fn is None:
        return False
    return fn(f"arena.{MALLCTL_ARENAS_ALL}.purge".encode(), None, None, None, 0) == 0


def trim_glibc() -> bool:
    """``malloc_trim(0)``: free pages of every glibc arena back to the system; False off glibc."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    libc.malloc_trim(ctypes.c_size_t(0))
    return True


@cache
def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@cache
def _polars_mallctl():
    """polars' jemalloc ``mallctl`` as a ctypes function, or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import polars._plr as plr

        library = Path(plr.__file__).resolve()
        offset = elf_symbol_offset(library, _MALLCTL)
        base = _load_address(library)
    except (ImportError, AttributeError, OSError, ValueError, struct.error):
        return None
    if offset is None or base is None:
        return None
    return _MALLCTL_TYPE(base + offset)


_SHT_SYMTAB = 2
_STT_FUNC = 2


def elf_symbol_offset(path: Path, name: bytes) -> int | None:
    """The value (offset from the load address) of function symbol ``name`` in the
    ``.symtab`` of the 64-bit little-endian ELF shared library ``path``; None if absent."""
    import numpy as np

    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if m[:4] != b"\x7fELF" or m[4] != 2 or m[5] != 1:  # ELF, 64-bit, little-endian
            return None
        shoff, = struct.unpack_from("<Q", m, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", m, 0x3A)
        for i in range(shnum):
            sh_type, = struct.unpack_from("<I", m, shoff + i * shentsize + 4)
            if sh_type != _SHT_SYMTAB:
                continue
            sym_off, sym_size, sh_link = _section(m, shoff + i * shentsize)
            str_off, str_size, _ = _section(m, shoff + sh_link * shentsize)
            at = m.find(b"\x00" + name + b"\x00", str_off, str_off + str_size)
            if at < 0:
                return None
            syms = np.frombuffer(m, dtype=np.dtype([("name", "<u4"), ("info", "u1"), ("other", "u1"), ("shndx", "<u2"),
                                                    ("value", "<u8"), ("size", "<u8")]),
                                 count=sym_size // 24, offset=sym_off)
            hit = syms[(syms["name"] == at + 1 - str_off) & ((syms["info"] & 0xF) == _STT_FUNC) & (syms["value"] > 0)]
            value = int(hit["value"][0]) if len(hit) else None
            del syms, hit  # views of the map: released before it closes
            return value
    return None


def _section(m, header: int) -> tuple[int, int, int]:
    """(file offset, size, sh_link) of the ELF64 section whose header starts at ``header``."""
    offset, size, link = struct.unpack_from("<QQI", m, header + 0x18)
    return offset, size, link


class _DlPhdrInfo(ctypes.Structure):
    _fields_ = [("dlpi_addr", ctypes.c_size_t), ("dlpi_name", ctypes.c_char_p)]  # the fields used (prefix of the struct)


_DL_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_DlPhdrInfo), ctypes.c_size_t, ctypes.c_void_p)


def _load_address(library: Path) -> int | None:
    """Where the dynamic loader placed ``library`` in this process (its load bias)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "dl_iterate_phdr"):
        return None
    found: list[int] = []

    def visit(info, _size, _data):
        name = info.contents.dlpi_name
        if name and os.path.exists(name) and Path(os.fsdecode(name)).resolve() == library:
            found.append(info.contents.dlpi_addr)
            return 1
        return 0

    libc.dl_iterate_phdr(_DL_CALLBACK(visit), None)
    return found[0] if found else None
