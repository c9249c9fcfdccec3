"""Text files as tools see them: binary detection, decoding that remembers the encoding, BOM and
CRLF line endings, and encoding back the same way."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from swerve.errors import ToolError

BOM = b"\xef\xbb\xbf"
SAMPLE = 8192

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "BMP image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "ELF executable"),
)


@dataclass
class TextFile:
    """Decoded text (``\\n`` line endings when ``crlf``) and how to write it back."""

    text: str
    encoding: str = "utf-8"  # utf-8 | latin-1
    bom: bool = False
    crlf: bool = False  # every line ended with CRLF; ``text`` holds them as LF

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, BOM and line endings. Raises ToolError when the
        encoding cannot hold it."""
        if self.crlf:
            text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        if self.bom and text.startswith("\ufeff"):
            text = text[1:]
        try:
            data = text.encode(self.encoding)
        except UnicodeEncodeError as exc:
            bad = text[exc.start : exc.end]
            raise ToolError(
                f"the file is {self.encoding} encoded and cannot hold {bad!r}; "
                "use characters that encoding has, or rewrite the file with write_file"
            ) from None
        return (BOM + data) if self.bom else data


def describe_binary(data: bytes, size: int | None = None) -> str:
    """'PNG image, 640x480, 12345 bytes' or 'binary file, 12345 bytes'."""
    size = len(data) if size is None else size
    kind = "binary file"
    for magic, name in _MAGIC:
        if data.startswith(magic):
            kind = name
            break
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "WEBP image"
    dims = ""
    if kind == "PNG image" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        dims = f", {w}x{h}"
    elif kind == "GIF image" and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        dims = f", {w}x{h}"
    return f"{kind}{dims}, {size} bytes"


def looks_binary(sample: bytes) -> bool:
    """NUL bytes, or many control characters in text that is not UTF-8."""
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a multi-byte character cut by the sample's end
            return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27, 8))
    return controls > len(sample) // 10


def decode(data: bytes) -> TextFile | None:
    """The file as text, or None when it looks binary."""
    bom = data.startswith(BOM)
    if bom:
        data = data[len(BOM) :]
    if looks_binary(data[:SAMPLE]):
        return None
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    if crlf:
        text = text.replace("\r\n", "\n")
    return TextFile(text, encoding, bom, crlf)


def split_lines(text: str) -> list[str]:
    """Lines without their ``\\n``; a final newline does not make an extra empty line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
