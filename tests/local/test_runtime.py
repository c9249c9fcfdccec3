"""The llama.cpp runtime: the glibc-compat patch on the wheel's real libraries, and loading them."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from swerve.local.elfcompat import ElfPatchError, elf_hash, needs_glibc_238, retarget_c23_imports
from swerve.local.runtime import glibc_version, package_dir


def _sections(data: bytes) -> list[tuple]:
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    return [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]


def _version_needs(data: bytes) -> list[str]:
    """Every version name the file needs (a small reader, independent of the patcher)."""
    sections = _sections(data)
    verneed = next(s for s in sections if s[1] == 0x6FFFFFFE)
    strtab = sections[verneed[6]][4]
    names, need = [], verneed[4]
    while True:
        _, count, _, aux, next_need = struct.unpack_from("<HHIII", data, need)
        entry = need + aux
        for _ in range(count):
            _, _, _, name, next_aux = struct.unpack_from("<IHHII", data, entry)
            names.append(data[strtab + name:data.index(b"\0", strtab + name)].decode())
            entry += next_aux
        if not next_need:
            return names
        need += next_need


def _undefined_imports(data: bytes) -> set[str]:
    """Names of the undefined dynamic symbols."""
    sections = _sections(data)
    dynsym = next(s for s in sections if s[1] == 11)
    strtab = sections[dynsym[6]][4]
    names = set()
    for i in range(dynsym[5] // 24):
        name, _, _, shndx = struct.unpack_from("<IBBH", data, dynsym[4] + 24 * i)
        if shndx == 0 and name:
            names.add(data[strtab + name:data.index(b"\0", strtab + name)].decode())
    return names


def test_elf_hash_matches_the_spec():
    assert elf_hash(b"") == 0
    assert elf_hash(b"GLIBC_2.2.5") == 0x09691A75
    assert elf_hash(b"GLIBC_2.38") == 0x069691B8


def test_patch_moves_only_the_c23_imports(runtime_installed):
    source = package_dir() / "libllama.so"
    original = source.read_bytes()
    if not needs_glibc_238(original):
        pytest.skip("this llama-cpp-py-sync build does not need glibc 2.38: nothing to patch")
    before = _undefined_imports(original)
    data = bytearray(original)
    moved = retarget_c23_imports(data)
    after = _undefined_imports(bytes(data))
    c23 = {name for name in before if name.startswith("__isoc23_")}
    assert moved == len(c23) > 0
    assert after == (before - c23) | {name.removeprefix("__isoc23_") for name in c23}
    assert "GLIBC_2.38" in _version_needs(original)
    assert "GLIBC_2.38" not in _version_needs(bytes(data))
    assert len(data) == len(original)
    assert retarget_c23_imports(data) == 0  # patching twice changes nothing


def test_patch_refuses_what_it_does_not_understand():
    with pytest.raises(ElfPatchError):
        retarget_c23_imports(bytearray(b"not an elf file at all" * 10))


def test_runtime_loads_and_reports_the_system(runtime_installed, tmp_path):
    # In a fresh process with an empty cache: the compat copy is made, then opened.
    code = ("from swerve.local.runtime import load_runtime; rt = load_runtime(); "
            "print(rt.patched, rt.library_dir); print(rt.ffi.string(rt.lib.llama_print_system_info()).decode())")
    env = {"SWERVE_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    patched, directory = result.stdout.splitlines()[0].split(" ", 1)
    old_glibc = (glibc_version() or (99, 0)) < (2, 38)
    assert patched == str(old_glibc)
    assert directory.startswith(str(tmp_path)) == old_glibc
    assert "CPU" in result.stdout
