"""Shell command lines as permission rules see them: the simple commands inside a compound line,
the prefix a "don't ask again" answer remembers, and the files a command writes (redirections,
``tee``, ``-o`` output flags, copy and in-place edit targets), so that an allow rule for ``echo``
never covers ``echo ... >> ~/.bashrc``."""

from __future__ import annotations

import shlex

# commands whose second word names what they do (``git push`` is not ``git status``)
SUBCOMMAND_TOOLS = frozenset(
    {
        "git",
        "npm",
        "pnpm",
        "yarn",
        "bun",
        "cargo",
        "go",
        "docker",
        "podman",
        "kubectl",
        "pip",
        "pip3",
        "uv",
        "poetry",
        "conda",
        "brew",
        "apt",
        "apt-get",
        "systemctl",
        "gh",
        "make",
        "dotnet",
        "mvn",
        "gradle",
        "rustup",
        "npx",
    }
)
_SEPARATORS = ("||", "&&", "|&", ";;", "|", ";", "&", "\n")


def split_command(command: str) -> list[str] | None:
    """The simple commands inside a shell command line: parts joined by ``|``, ``||``, ``&&``,
    ``;``, ``&`` or newlines, and the bodies of ``$(...)``, backticks and ``<(...)``, each on its
    own. Quotes are respected. ``None`` when the line cannot be parsed (an unclosed quote)."""
    parts: list[str] = []
    if not _split_into(command, parts):
        return None
    return [p for p in parts if p]


def _split_into(text: str, parts: list[str]) -> bool:
    current: list[str] = []
    i, n = 0, len(text)

    def close_part() -> None:
        part = "".join(current).strip()
        current.clear()
        # a grouping brace is not a command: `{ a; b; }`
        if part.startswith("{") and (len(part) == 1 or part[1].isspace()):
            part = part[1:].strip()
        if part == "}":
            part = ""
        if part:
            parts.append(part)

    while i < n:
        ch = text[i]
        if ch == "\\":
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return False
            current.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "`" or text.startswith("$(", j):
                    inner_end = _substitution_end(text, j)
                    if inner_end is None:
                        return False
                    body = text[j + 1 : inner_end] if text[j] == "`" else text[j + 2 : inner_end]
                    if not _split_into(body, parts):
                        return False
                    j = inner_end + 1
                    continue
                j += 1
            if j >= n:
                return False
            current.append(text[i : j + 1])
            i = j + 1
            continue
        if ch == "`" or (ch in "$<>" and text.startswith("(", i + 1)):
            closing = _substitution_end(text, i)
            if closing is None:
                return False
            body = text[i + 1 : closing] if ch == "`" else text[i + 2 : closing]
            if not _split_into(body, parts):
                return False
            current.append(text[i : closing + 1])
            i = closing + 1
            continue
        if ch == "#" and (not current or current[-1][-1:].isspace()):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep == "&" and (text[i - 1 : i] in (">", "<") or text[i + 1 : i + 2] == ">"):
            sep = None  # a redirection such as 2>&1 or &>file
        if sep is not None:
            close_part()
            i += len(sep)
            continue
        if ch in "()":
            close_part()
            i += 1
            continue
        current.append(ch)
        i += 1
    close_part()
    return True


def _substitution_end(text: str, start: int) -> int | None:
    """Index of the character closing the substitution that opens at ``start``."""
    if text[start] == "`":
        j = start + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == "`":
                return j
            j += 1
        return None
    depth, j, quote = 0, start + 1, ""
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "\\" and quote == '"':
                j += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            j += 2
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None


def command_prefix(part: str) -> str:
    """The prefix a "don't ask again" answer remembers for one simple command: its first word,
    two for tools with subcommands (``git status``), three for ``python -m module``."""
    try:
        words = shlex.split(part)
    except ValueError:
        words = part.split()
    if not words:
        return part.strip()
    if len(words) >= 3 and words[0].startswith("python") and words[1] == "-m":
        return " ".join(words[:3])
    if len(words) >= 2 and words[0] in SUBCOMMAND_TOOLS and not words[1].startswith("-"):
        return " ".join(words[:2])
    return words[0]


# commands whose last argument is where they write, and commands that write files in place
_COPIERS = frozenset({"cp", "mv", "install", "ln", "rsync", "scp"})
_IN_PLACE = frozenset({"sed", "perl"})  # with -i
_OUTPUT_FLAG_TOOLS = frozenset(
    {"curl", "wget", "gcc", "g++", "cc", "clang", "clang++", "sort", "ld", "pandoc", "openssl", "zip", "tar"}
)
_REDIRECTS = (">", ">>", ">|", "&>", "&>>")
_NOT_FILES = ("/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty")


def write_targets(command: str) -> list[str] | None:
    """The paths a shell command line writes that can be seen without running it; None when the
    line cannot be parsed (then nothing can be said, and rules must not cover it)."""
    parts = split_command(command)
    if parts is None:
        return None
    out: list[str] = []
    for part in parts:
        targets = _part_targets(part)
        if targets is None:
            return None
        out += [t for t in targets if t not in out]
    return out


def _part_targets(part: str) -> list[str] | None:
    lexer = shlex.shlex(part, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    targets: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _REDIRECTS or (tok.endswith(_REDIRECTS) and tok.rstrip("&>|").isdigit()):
            if i + 1 < len(tokens):
                targets.append(tokens[i + 1])
            i += 2
            continue
        if tok.startswith((">", "&>")) or tok in ("<", "<<", "<<<", "<&", ">&"):
            i += 2 if tok in ("<", "<<", "<<<", "<&", ">&") else 1
            continue
        words.append(tok)
        i += 1
    while words and "=" in words[0] and not words[0].startswith("-"):  # VAR=value cmd
        words.pop(0)
    targets += _command_writes(words)
    return [t for t in targets if t and t not in _NOT_FILES and not t.startswith("/dev/fd/")]


def _command_writes(words: list[str]) -> list[str]:
    if not words:
        return []
    name = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    plain = [a for a in args if not a.startswith("-")]
    if name == "tee":
        return plain
    if name == "dd":
        return [a[3:] for a in args if a.startswith("of=")]
    if name in _COPIERS:
        for j, a in enumerate(args):
            if a in ("-t", "--target-directory") and j + 1 < len(args):
                return [args[j + 1]]
            if a.startswith("--target-directory="):
                return [a.split("=", 1)[1]]
        return plain[-1:] if len(plain) >= 2 else []
    if name in _IN_PLACE and any(a == "-i" or a.startswith("-i") or a.startswith("--in-place") for a in args):
        return plain[1:]  # the first plain word is the script
    if name in _OUTPUT_FLAG_TOOLS:
        out = []
        for j, a in enumerate(args):
            if a in ("-o", "-O", "--output", "--output-document", "-f") and j + 1 < len(args):
                out.append(args[j + 1])
            elif a.startswith(("--output=", "--output-document=")):
                out.append(a.split("=", 1)[1])
        return out
    return []
