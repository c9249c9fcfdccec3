"""Make the prebuilt llama.cpp libraries load on glibc older than 2.38.

The ``llama-cpp-py-sync`` wheel is tagged manylinux2014 but was linked on a glibc 2.38+ system:
its libraries import ``__isoc23_strtol``, ``__isoc23_strtoul``, ``__isoc23_strtoull`` and
``__isoc23_sscanf`` at version ``GLIBC_2.38`` (the C23 variants that also accept ``0b`` binary
literals) and nothing else from 2.38. On Debian 12 (glibc 2.36) ``dlopen`` refuses them.

:func:`retarget_c23_imports` rewrites a copy, in place: each such import is pointed at the
classic function (its name without the ``__isoc23_`` prefix, a suffix of the same string
table entry) at ``GLIBC_2.2.5``, and the ``GLIBC_2.38`` version need is renamed to
``GLIBC_2.2.5``. Only the dynamic symbol, version and version-need tables change; code is
untouched. The one behavioural difference is that a ``0b…`` literal is no longer parsed as
binary, which llama.cpp does not rely on. Anything unexpected (another symbol at 2.38, a
32-bit or big-endian file) raises :class:`ElfPatchError` rather than guessing.
"""

from __future__ import annotations

import struct

from swerve.errors import LocalModelError

_PREFIX = b"__isoc23_"
_NEW = b"GLIBC_2.38"
_OLD = b"GLIBC_2.2.5"
_SHT_DYNSYM = 11
_SHT_GNU_VERNEED = 0x6FFFFFFE
_SHT_GNU_VERSYM = 0x6FFFFFFF


class ElfPatchError(LocalModelError):
    """The file is not a shape this patch understands."""


def elf_hash(name: bytes) -> int:
    """The SysV ELF hash (what ``vna_hash`` holds)."""
    value = 0
    for byte in name:
        value = ((value << 4) + byte) & 0xFFFFFFFF
        high = value & 0xF0000000
        if high:
            value ^= high >> 24
        value &= ~high & 0xFFFFFFFF
    return value


def _sections(data: bytes) -> list[tuple[int, int, int, int]]:
    """``(type, offset, size, link)`` of every section header."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ElfPatchError("not a 64-bit little-endian ELF file")
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    out = []
    for index in range(shnum):
        _, kind, _, _, offset, size, link, _, _, _ = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + index * shentsize
        )
        out.append((kind, offset, size, link))
    return out


def needs_glibc_238(data: bytes) -> bool:
    return _NEW + b"\0" in data


def retarget_c23_imports(data: bytearray) -> int:
    """Patch ``data`` (a whole shared library) in place; returns how many imports were moved."""
    sections = _sections(data)
    by_type = {kind: (offset, size, link) for kind, offset, size, link in sections}
    if _SHT_DYNSYM not in by_type or _SHT_GNU_VERSYM not in by_type or _SHT_GNU_VERNEED not in by_type:
        return 0
    dynsym_off, dynsym_size, strtab_index = by_type[_SHT_DYNSYM]
    versym_off = by_type[_SHT_GNU_VERSYM][0]
    strtab_off = sections[strtab_index][1]

    def name_at(offset: int) -> bytes:
        start = strtab_off + offset
        return bytes(data[start : data.index(b"\0", start)])

    targets: dict[int, int] = {}  # version index -> offset of its Vernaux entry
    old_name: int | None = None
    need = by_type[_SHT_GNU_VERNEED][0]
    while True:
        _, count, _, aux, next_need = struct.unpack_from("<HHIII", data, need)
        entry = need + aux
        for _ in range(count):
            _, _, other, name, next_aux = struct.unpack_from("<IHHII", data, entry)
            label = name_at(name)
            if label == _OLD:
                old_name = name
            elif label == _NEW:
                targets[other] = entry
            if not next_aux:
                break
            entry += next_aux
        if not next_need:
            break
        need += next_need
    if not targets:
        return 0
    if old_name is None:
        raise ElfPatchError("no GLIBC_2.2.5 version string to retarget to")
    moved = 0
    for index in range(dynsym_size // 24):
        (version,) = struct.unpack_from("<H", data, versym_off + 2 * index)
        if version & 0x7FFF not in targets:
            continue
        symbol = dynsym_off + 24 * index
        (name,) = struct.unpack_from("<I", data, symbol)
        label = name_at(name)
        if not label.startswith(_PREFIX):
            raise ElfPatchError(f"{label.decode(errors='replace')} needs GLIBC_2.38 and has no older twin")
        struct.pack_into("<I", data, symbol, name + len(_PREFIX))
        moved += 1
    for entry in targets.values():
        struct.pack_into("<I", data, entry, elf_hash(_OLD))
        struct.pack_into("<I", data, entry + 8, old_name)
    return moved
