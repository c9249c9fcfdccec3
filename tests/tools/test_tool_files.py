"""read_file, write_file and edit on real files."""

import struct
import zlib
from pathlib import Path

import pytest

from swerve.tools.files import LARGE_FILE_BYTES, Edit, WriteFile


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


# -- read_file ------------------------------------------------------------------------------


async def test_read_numbers_lines_like_cat_n(call, root: Path):
    (root / "a.py").write_text("first\nsecond\n\tthird\n")
    result = await call("read_file", file_path="a.py")
    assert not result.is_error
    assert result.output == "     1\tfirst\n     2\tsecond\n     3\t\tthird\n"


async def test_read_a_range_and_learn_how_to_read_on(call, root: Path):
    (root / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 3001)))
    result = await call("read_file", file_path="long.txt")
    assert result.output.startswith("     1\tline 1\n")
    assert (
        "Showing lines 1-" in result.output and "To read more, call read_file with offset=" in result.output
    )
    result = await call("read_file", file_path="long.txt", offset=10, limit=3)
    assert result.output.startswith("    11\tline 11\n    12\tline 12\n    13\tline 13\n")
    assert "Showing lines 11-13 of 3000" in result.output and "offset=13" in result.output
    result = await call("read_file", file_path="long.txt", offset=2999)
    assert result.output == "  3000\tline 3000\n"
    result = await call("read_file", file_path="long.txt", offset=3000)
    assert result.is_error and "past the end" in result.output and "3000 lines" in result.output


async def test_read_stops_at_its_char_budget_and_cuts_long_lines(call, root: Path):
    (root / "wide.txt").write_text("short\n" + "w" * 5000 + "\n" + ("y" * 1000 + "\n") * 100)
    result = await call("read_file", file_path="wide.txt")
    assert "     2\t" + "w" * 2000 + "... [line cut: 5000 chars]" in result.output
    assert "1 long line(s) cut" in result.output
    assert len(result.output) < 26_000
    shown = result.output.count("\n") - 1
    assert f"To read more, call read_file with offset={shown}" in result.output


async def test_read_special_files(call, root: Path):
    (root / "empty.txt").write_text("")
    assert (await call("read_file", file_path="empty.txt")).output == "empty.txt is empty."
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    result = await call("read_file", file_path="blob.bin")
    assert (
        not result.is_error
        and result.output == "blob.bin is binary (binary file, 300 bytes); its content is not shown."
    )
    (root / "pic.png").write_bytes(png(640, 480))
    result = await call("read_file", file_path="pic.png")
    assert "PNG image, 640x480" in result.output
    (root / "sub").mkdir()
    result = await call("read_file", file_path="sub")
    assert result.is_error and "is a directory" in result.output and "list_directory" in result.output
    (root / "old.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    result = await call("read_file", file_path="old.txt")
    assert result.output.startswith("     1\tcafé crème\n") and "latin-1" in result.output


async def test_read_missing_file_suggests_similar_names(call, root: Path):
    (root / "config.yaml").write_text("a: 1\n")
    result = await call("read_file", file_path="config.yml")
    assert result.is_error
    assert result.output == "File not found: config.yml. Similar names: config.yaml"
    result = await call("read_file", file_path="nowhere/x.txt")
    assert result.is_error and "does not exist either" in result.output


async def test_read_a_huge_file_by_range(call, root: Path):
    line = "0123456789" * 10 + "\n"
    count = LARGE_FILE_BYTES // len(line) + 1000
    (root / "big.log").write_text(line * count)
    result = await call("read_file", file_path="big.log", offset=count - 2, limit=5)
    assert not result.is_error, result.output
    assert result.output.startswith(f"{count - 1:6}\t0123")
    assert f"{count:6}\t" in result.output and "large file" in result.output
    result = await call("read_file", file_path="big.log")
    assert "To read more, call read_file with offset=" in result.output and f"of {count}" in result.output
    big_binary = root / "big.bin"
    with big_binary.open("wb") as f:
        f.truncate(LARGE_FILE_BYTES + 1)
    result = await call("read_file", file_path="big.bin")
    assert "is binary" in result.output


# -- write_file -----------------------------------------------------------------------------


async def test_write_creates_parents_and_reports(call, root: Path):
    result = await call("write_file", file_path="deep/er/new.txt", content="a\nb\n")
    assert not result.is_error and result.output == "Created deep/er/new.txt (2 lines)."
    assert (root / "deep/er/new.txt").read_text() == "a\nb\n"
    assert result.display["type"] == "diff" and "+a" in result.display["diff"]
    result = await call("write_file", file_path="deep/er/new.txt", content="a\nc\n")
    assert result.output == "Wrote deep/er/new.txt (2 lines, was 2)."
    assert "-b\n+c" in result.display["diff"]


async def test_write_keeps_crlf_and_bom_and_latin1(call, root: Path):
    (root / "win.txt").write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    await call("write_file", file_path="win.txt", content="uno\ndos\n")
    assert (root / "win.txt").read_bytes() == b"\xef\xbb\xbfuno\r\ndos\r\n"
    (root / "l1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    await call("write_file", file_path="l1.txt", content="th\xe9\n")
    assert (root / "l1.txt").read_bytes() == b"th\xe9\n"
    await call("write_file", file_path="l1.txt", content="snow \u2603\n")  # latin-1 cannot hold it
    assert (root / "l1.txt").read_bytes() == "snow \u2603\n".encode()


async def test_write_preview_shows_a_diff_and_writes_nothing(ctx, root: Path):
    (root / "f.txt").write_text("old\n")
    preview = await WriteFile().preview({"file_path": "f.txt", "content": "new\n"}, ctx)
    assert preview["type"] == "diff" and preview["path"] == "f.txt"
    assert "-old\n+new\n" in preview["diff"]
    assert (root / "f.txt").read_text() == "old\n"


async def test_write_onto_a_directory_fails(call, root: Path):
    (root / "d").mkdir()
    result = await call("write_file", file_path="d", content="x")
    assert result.is_error and "is a directory" in result.output


# -- edit -----------------------------------------------------------------------------------

SOURCE = """\
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""


async def test_edit_one_match_shows_a_snippet(call, root: Path):
    (root / "m.py").write_text(SOURCE)
    result = await call(
        "edit", file_path="m.py", old_string="    return a - b", new_string="    return a - b  # sub"
    )
    assert not result.is_error
    assert result.output.startswith("Edited m.py: replaced 1 occurrence.\n")
    assert "     6\t    return a - b  # sub" in result.output
    assert "     5\tdef sub(a, b):" in result.output
    assert (root / "m.py").read_text() == SOURCE.replace("a - b", "a - b  # sub")
    assert "+    return a - b  # sub" in result.display["diff"]


async def test_edit_no_match_shows_the_closest_lines(call, root: Path):
    (root / "m.py").write_text(SOURCE)
    result = await call("edit", file_path="m.py", old_string="def sub(a, b):\n  return a - b", new_string="x")
    assert result.is_error
    assert "old_string was not found in m.py" in result.output
    assert "lines 5-6" in result.output
    assert "     5\tdef sub(a, b):\n     6\t    return a - b" in result.output
    assert (root / "m.py").read_text() == SOURCE
    result = await call(
        "edit", file_path="m.py", old_string="completely unrelated text 12345", new_string="x"
    )
    assert result.is_error and "No similar text was found" in result.output


async def test_edit_many_matches_lists_them_unless_replace_all(call, root: Path):
    (root / "m.py").write_text(SOURCE)
    result = await call("edit", file_path="m.py", old_string="(a, b):", new_string="(a, b, c):")
    assert result.is_error
    assert "matches 3 times" in result.output and "lines 1, 5, 9" in result.output
    assert (root / "m.py").read_text() == SOURCE
    result = await call(
        "edit", file_path="m.py", old_string="(a, b):", new_string="(x, y):", replace_all=True
    )
    assert not result.is_error and "replaced 3 occurrences" in result.output
    assert (root / "m.py").read_text().count("(x, y):") == 3


async def test_edit_keeps_crlf_latin1_and_bom(call, root: Path):
    (root / "w.txt").write_bytes(b"alpha\r\nbeta\r\ngamma\r\n")
    result = await call("edit", file_path="w.txt", old_string="alpha\nbeta", new_string="alpha\nBETA\nextra")
    assert not result.is_error, result.output
    assert (root / "w.txt").read_bytes() == b"alpha\r\nBETA\r\nextra\r\ngamma\r\n"

    (root / "unix.txt").write_bytes(b"one\ntwo\n")
    result = await call("edit", file_path="unix.txt", old_string="one\r\ntwo", new_string="1\r\n2")
    assert not result.is_error and (root / "unix.txt").read_bytes() == b"1\n2\n"

    (root / "l.txt").write_bytes("na\xefve caf\xe9\n".encode("latin-1"))
    result = await call("edit", file_path="l.txt", old_string="caf\xe9", new_string="th\xe9")
    assert not result.is_error
    assert (root / "l.txt").read_bytes() == "na\xefve th\xe9\n".encode("latin-1")
    result = await call("edit", file_path="l.txt", old_string="th\xe9", new_string="\u2603")
    assert result.is_error and "latin-1" in result.output
    assert (root / "l.txt").read_bytes() == "na\xefve th\xe9\n".encode("latin-1")

    (root / "b.txt").write_bytes(b"\xef\xbb\xbfkey = 1\n")
    result = await call("edit", file_path="b.txt", old_string="key = 1", new_string="key = 2")
    assert not result.is_error
    assert (root / "b.txt").read_bytes() == b"\xef\xbb\xbfkey = 2\n"


async def test_edit_creates_with_an_empty_old_string(call, root: Path):
    result = await call("edit", file_path="pkg/new.py", old_string="", new_string="x = 1\n")
    assert not result.is_error and result.output == "Created pkg/new.py (1 lines)."
    assert (root / "pkg/new.py").read_text() == "x = 1\n"
    result = await call("edit", file_path="pkg/new.py", old_string="", new_string="y = 2\n")
    assert result.is_error and "already exists" in result.output
    assert (root / "pkg/new.py").read_text() == "x = 1\n"


@pytest.mark.parametrize(
    ("setup", "args", "needle"),
    [
        (None, {"file_path": "none.py", "old_string": "a", "new_string": "b"}, "File not found: none.py"),
        ("same", {"file_path": "f.txt", "old_string": "abc", "new_string": "abc"}, "are the same"),
        ("binary", {"file_path": "f.bin", "old_string": "a", "new_string": "b"}, "binary file"),
        ("same", {"file_path": "f.txt", "old_string": "abc"}, "missing required parameter 'new_string'"),
    ],
)
async def test_edit_errors(call, root: Path, setup, args, needle):
    (root / "f.txt").write_text("abc\n")
    (root / "f.bin").write_bytes(b"a\0b")
    result = await call("edit", **args)
    assert result.is_error and needle in result.output
    assert (root / "f.txt").read_text() == "abc\n" and (root / "f.bin").read_bytes() == b"a\0b"


async def test_edit_preview_is_a_diff_and_bad_args_give_none(ctx, root: Path):
    (root / "m.py").write_text(SOURCE)
    preview = await Edit().preview({"file_path": "m.py", "old_string": "a * b", "new_string": "b * a"}, ctx)
    assert "-    return a * b\n+    return b * a\n" in preview["diff"]
    assert (root / "m.py").read_text() == SOURCE
    assert await Edit().preview({"file_path": "m.py"}, ctx) is None
