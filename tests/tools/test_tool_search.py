"""glob, grep_search (ripgrep and the Python fallback give the same output) and list_directory."""

import os
import shutil
from pathlib import Path

import pytest

from swerve.sandbox.host import HostWorkspace
from swerve.tools.base import ToolContext
from swerve.tools.search import GLOB_MAX_SHOWN, GrepSearch, glob_regex


def make_tree(root: Path) -> None:
    files = {
        "README.md": "# Demo\nTODO: write docs\n",
        "src/app.py": "import os\n\ndef main():\n    # TODO: parse args\n    return os.getcwd()\n",
        "src/util/helpers.py": "def helper():\n    return 'todo in lower case'\n",
        "src/util/Zeta.py": "ZETA = 1\n",
        "src/web/index.ts": "// TODO: routes\nexport const x = 1;\n",
        "src/web/view.tsx": "export const View = () => null; // TODO later\n",
        "notes/crlf.txt": "TODO: windows\r\nsecond\r\n",
        "notes/uni.txt": "caf\u00e9 TODO \u2603\n",
        "notes/long.txt": "TODO " + "z" * 2000 + "\n",
        ".hidden/conf.txt": "TODO: hidden\n",
        "node_modules/lib/index.js": "// TODO: vendored\n",
        "src/__pycache__/app.cpython-311.pyc": "TODO cache\n",
        "a-b.txt": "TODO dash\n",
        "a_b.txt": "TODO underscore\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    (root / "data.bin").write_bytes(b"TODO\0binary")
    os.symlink(root / "src/app.py", root / "link.py")
    os.symlink(root / "src", root / "srclink")


# -- glob -----------------------------------------------------------------------------------


def test_glob_regex_semantics():
    assert glob_regex("**/*.py").match("a.py") and glob_regex("**/*.py").match("x/y/a.py")
    assert not glob_regex("*.py").match("x/a.py")
    assert glob_regex("src/**").match("src/a/b.c")
    assert glob_regex("*.{ts,tsx}").match("v.tsx") and not glob_regex("*.{ts,tsx}").match("v.js")
    assert glob_regex("[!a]?.txt").match("bc.txt") and not glob_regex("[!a]?.txt").match("ab.txt")
    assert glob_regex("a[.txt").match("a[.txt")


async def test_glob_recursive_newest_first_and_skips_junk(call, root: Path):
    make_tree(root)
    for i, name in enumerate(["src/app.py", "src/util/helpers.py", "src/util/Zeta.py"]):
        os.utime(root / name, (1_000_000 + i, 1_000_000 + i))
    result = await call("glob", pattern="**/*.py")
    assert not result.is_error
    lines = result.output.splitlines()
    assert lines[0] == "4 file(s) match '**/*.py' in . (newest first):"
    assert lines[1:] == ["link.py", "src/util/Zeta.py", "src/util/helpers.py", "src/app.py"]  # link.py is new
    result = await call("glob", pattern="**/*.js")
    assert "No files match" in result.output
    result = await call("glob", pattern="node_modules/**/*.js")
    assert result.output.splitlines()[1:] == ["node_modules/lib/index.js"]
    result = await call("glob", pattern="*.{ts,tsx}", path="src/web")
    assert sorted(result.output.splitlines()[1:]) == ["src/web/index.ts", "src/web/view.tsx"]
    result = await call("glob", pattern="*.ts", path="src")
    assert "try '**/*.ts'" in result.output
    result = await call("glob", pattern=f"{root}/src/**/*.ts")
    assert result.output.splitlines()[1:] == ["src/web/index.ts"]


async def test_glob_is_bounded_and_checks_its_path(call, root: Path):
    for i in range(GLOB_MAX_SHOWN + 25):
        (root / f"f{i:03d}.txt").write_text("x")
    result = await call("glob", pattern="*.txt")
    assert len(result.output.splitlines()) == 1 + GLOB_MAX_SHOWN + 1
    assert result.output.endswith("[... 25 more; narrow the pattern or path]")
    result = await call("glob", pattern="*", path="missing")
    assert result.is_error and "Directory not found: missing" in result.output
    result = await call("glob", pattern="*", path="f000.txt")
    assert result.is_error and "is not a directory" in result.output
    result = await call("glob", pattern="../**")
    assert result.is_error


# -- grep_search ----------------------------------------------------------------------------

GREP_CASES = [
    {"pattern": "TODO"},
    {"pattern": "(?i)todo", "glob": "*.py"},
    {"pattern": "^def ", "path": "src"},
    {"pattern": "TODO", "path": "src/app.py"},
    {"pattern": r"\d+", "path": "src/web"},
    {"pattern": "TODO", "path": "node_modules"},
    {"pattern": "TODO", "glob": "*.{ts,tsx}"},
    {"pattern": "windows$"},
    {"pattern": "nothing-matches-this"},
    {"pattern": "-x", "path": "src"},
]


async def run_grep(backend: str, ctx: ToolContext, args: dict) -> str:
    result = await GrepSearch(backend).run(args, ctx)  # type: ignore[arg-type]
    return result.output


@pytest.mark.parametrize("args", GREP_CASES, ids=[str(c) for c in GREP_CASES])
async def test_grep_rg_and_python_fallback_agree(ctx, root: Path, args):
    make_tree(root)
    python_out = await run_grep("python", ctx, args)
    if shutil.which("rg") is None:
        pytest.skip(
            "ripgrep (rg) is not installed here; the Python fallback ran alone (scripts/setup installs rg)"
        )
    rg_out = await run_grep("rg", ctx, args)
    assert rg_out == python_out


async def test_grep_output_format(ctx, root: Path):
    make_tree(root)
    out = await run_grep("python", ctx, {"pattern": "TODO"})
    lines = out.splitlines()
    assert lines[0].startswith("10 match(es) for 'TODO' in .:")
    assert "src/app.py:4:    # TODO: parse args" in lines
    assert "notes/crlf.txt:1:TODO: windows" in lines  # no carriage return
    assert ".hidden/conf.txt:1:TODO: hidden" in lines
    assert not any(
        line.startswith(("node_modules", "data.bin", "link.py", "srclink", "src/__pycache__"))
        for line in lines
    )
    long_line = next(line for line in lines if line.startswith("notes/long.txt"))
    assert long_line.endswith("... [2005 chars]") and len(long_line) < 600


async def test_grep_falls_back_when_rg_is_missing(root: Path, tmp_path: Path):
    make_tree(root)
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    workspace = HostWorkspace(str(root), env={"PATH": str(empty_bin)})
    ctx = ToolContext(workspace)
    out = await run_grep("auto", ctx, {"pattern": "ZETA"})
    assert out == "1 match(es) for 'ZETA' in .:\nsrc/util/Zeta.py:1:ZETA = 1"
    assert ctx.state["grep_no_rg"] is True
    with pytest.raises(Exception, match="not installed"):
        await run_grep("rg", ctx, {"pattern": "ZETA"})


async def test_grep_errors_and_bounds(call, ctx, root: Path):
    result = await call("grep_search", pattern="(unclosed")
    assert result.is_error
    with pytest.raises(Exception, match="invalid regular expression"):
        await run_grep("python", ctx, {"pattern": "(unclosed"})
    result = await call("grep_search", pattern="x", path="missing")
    assert result.is_error and "Path not found: missing" in result.output
    (root / "many.txt").write_text("hit\n" * 500)
    for backend in ("python", "rg") if shutil.which("rg") else ("python",):
        out = await run_grep(backend, ctx, {"pattern": "hit"})
        assert out.splitlines()[0] == "500 match(es) for 'hit' in .:"
        assert out.endswith("[... 300 more matches; narrow the pattern, path or glob]")


# -- list_directory -------------------------------------------------------------------------


async def test_list_directory(call, root: Path):
    make_tree(root)
    (root / "big.dat").write_bytes(b"x" * 3000)
    result = await call("list_directory")
    lines = result.output.splitlines()
    assert lines[0] == ".: 5 dir(s), 6 file(s)"
    assert lines[1:6] == [".hidden/", "node_modules/", "notes/", "src/", "srclink/ -> (symlink)"]
    assert "big.dat  2.9K" in lines and "README.md  24B" in lines
    result = await call("list_directory", path="src/util")
    assert result.output.splitlines()[1:] == ["Zeta.py  9B", "helpers.py  46B"]
    result = await call("list_directory", path="README.md")
    assert result.is_error and "is not a directory" in result.output
    (root / "empty").mkdir()
    assert (await call("list_directory", path="empty")).output == "empty is empty."
