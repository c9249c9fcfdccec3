"""The local model catalog: consistent pins, name lookup, and resolving a name or path to a .gguf."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

import pytest

from swerve.local import catalog
from swerve.local.catalog import (
    CATALOG,
    DEFAULT_MODEL,
    CatalogError,
    ModelNotInstalled,
    installed,
    lookup,
    resolve_model_file,
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SWERVE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_every_entry_is_pinned_and_adds_up() -> None:
    assert DEFAULT_MODEL in CATALOG
    names = [n for m in CATALOG.values() for n in (m.name, *m.aliases)]
    assert len(names) == len(set(names)), "a name or alias is used twice"
    for model in CATALOG.values():
        assert sum(p.size for p in model.parts) == model.size, model.name
        assert model.file_name.endswith(".gguf")
        assert len(model.sha256) == 64 and int(model.sha256, 16) >= 0
        for n, part in enumerate(model.parts, start=1):
            assert part.requirement == f"{part.package}=={part.version}"
            assert part.member.startswith(part.package.replace("-", "_") + "/"), part.member
            assert str(n) in part.package
            assert len(part.sha256) == 64
        assert len({p.package for p in model.parts}) == len(model.parts)
        assert model.tools <= model.chat_template  # tools need a template


def test_lookup_by_name_alias_and_case() -> None:
    assert lookup("qwen2.5-coder-0.5b").name == "qwen2.5-coder-0.5b"
    assert lookup("Qwen2.5-Coder-1.5B-Instruct").name == "qwen2.5-coder-1.5b"
    assert lookup(" gemma-3-270m ").name == "gemma3-270m"
    with pytest.raises(CatalogError) as err:
        lookup("llama-70b")
    message = str(err.value)
    assert "llama-70b" in message
    for name in CATALOG:
        assert name in message


def test_resolve_a_path_passes_through(tmp_path: Path, cache: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model_file(str(gguf)) == gguf.resolve()
    with pytest.raises(CatalogError, match="not found"):
        resolve_model_file(str(tmp_path / "missing.gguf"))


def test_resolve_a_name_that_is_not_pulled_says_how(cache: Path) -> None:
    with pytest.raises(ModelNotInstalled) as err:
        resolve_model_file("qwen2.5-coder-1.5b")
    assert "swerve model pull qwen2.5-coder-1.5b" in str(err.value)
    with pytest.raises(ModelNotInstalled, match=f"swerve model pull {DEFAULT_MODEL}"):
        resolve_model_file()
    assert installed() == []


def test_resolve_an_incomplete_file_is_refused(cache: Path) -> None:
    model = lookup("gemma3-270m")
    model.path().parent.mkdir(parents=True)
    model.path().write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelNotInstalled, match="incomplete or damaged"):
        resolve_model_file("gemma3-270m")
    assert installed() == []
    with open(model.path(), "r+b") as f:
        f.truncate(model.size)
    assert resolve_model_file("gemma-3-270m") == model.path()
    assert installed() == [model]


# -- the facts recorded in the catalog, against the real files when they are in the cache -------

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def _read(f: BinaryIO, fmt: str) -> int | float | bool:
    return struct.unpack("<" + fmt, f.read(struct.calcsize(fmt)))[0]


def _value(f: BinaryIO, kind: int) -> object:
    if kind == 8:
        return f.read(int(_read(f, "Q"))).decode("utf-8", "replace")
    if kind == 9:
        item, count = int(_read(f, "I")), int(_read(f, "Q"))
        return [_value(f, item) for _ in range(count)]
    return _read(f, _SCALARS[kind])


def gguf_metadata(path: Path) -> dict[str, object]:
    """The key/value header of a GGUF v3 file (arrays are read and kept only by length)."""
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"
        assert _read(f, "I") == 3
        _read(f, "Q")  # tensor count
        meta: dict[str, object] = {}
        for _ in range(int(_read(f, "Q"))):
            key = f.read(int(_read(f, "Q"))).decode()
            value = _value(f, int(_read(f, "I")))
            meta[key] = len(value) if isinstance(value, list) else value
        return meta


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_facts_match_the_gguf_header(name: str) -> None:
    model = CATALOG[name]
    if not model.is_installed():
        pytest.skip(
            f"{name} is not in the cache ({catalog.models_dir()}); `swerve model pull {name}` to check it"
        )
    meta = gguf_metadata(model.path())
    arch = meta["general.architecture"]
    assert arch == model.architecture
    assert meta[f"{arch}.context_length"] == model.context_length
    assert meta["general.file_type"] == 15  # LLAMA_FTYPE_MOSTLY_Q4_K_M
    template = meta.get("tokenizer.chat_template")
    assert (template is not None) == model.chat_template
    if model.tools:
        assert isinstance(template, str) and "tools" in template and "<tool_call>" in template
