"""Test-log parsers: a log in, a map ``test id -> status`` out.

One parser per family of test runner, with the semantics SWE-bench's graders use, so our verdicts
equal theirs on the same logs: pytest's ``-rA`` summary (plain, with path options shortened, or
with colours and the old "id STATUS" form), Django's runner, sympy's ``bin/test``, and the
matplotlib and seaborn variants. Statuses are PASSED, FAILED, SKIPPED, ERROR and XFAIL.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PASSED, FAILED, SKIPPED, ERROR, XFAIL = "PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL"
STATUSES = (FAILED, PASSED, SKIPPED, ERROR, XFAIL)

StatusMap = dict[str, str]
Parser = Callable[[str], StatusMap]

_SKIP_COUNT = re.compile(r"^\[\d+\]$")  # "SKIPPED [3] path:12: reason": a count, not a test id
_ANSI_COLOUR = re.compile(r"\[(\d+)m")
_CONTROL = str.maketrans("", "", "".join(chr(c) for c in range(1, 32)))
_OPTION = re.compile(r"(.*?)\[(.*)\]")


def _status_prefix(line: str) -> str | None:
    for status in STATUSES:
        if line.startswith(status):
            return status
    return None


def _summary_pair(line: str) -> tuple[str, str] | None:
    """``STATUS test-id ...`` from pytest's short summary; None for other lines."""
    status = _status_prefix(line)
    if status is None:
        return None
    if status == FAILED:
        line = line.replace(" - ", " ")
    words = line.split()
    if len(words) < 2:
        return None
    if words[0] == SKIPPED and _SKIP_COUNT.match(words[1]):
        return None
    return words[1], words[0]


def parse_pytest(log: str) -> StatusMap:
    """pytest with ``-rA``: one ``STATUS id`` line per test in the short summary."""
    out: StatusMap = {}
    for line in log.split("\n"):
        pair = _summary_pair(line)
        if pair:
            out[pair[0]] = pair[1]
    return out


def _shorten_option(test_id: str) -> str:
    """``test_x[/abs/path/file]`` -> ``test_x[/file]``: ids that embed a machine's path."""
    m = _OPTION.search(test_id)
    if not m:
        return test_id
    head, option = m.groups()
    if option.startswith("/") and not option.startswith("//") and "*" not in option:
        option = "/" + option.split("/")[-1]
    return f"{head}[{option}]"


def parse_pytest_options(log: str) -> StatusMap:
    """pytest, with path-valued parametrize options reduced to their last component."""
    out: StatusMap = {}
    for line in log.split("\n"):
        pair = _summary_pair(line)
        if pair:
            out[_shorten_option(pair[0])] = pair[1]
    return out


def parse_pytest_v2(log: str) -> StatusMap:
    """pytest with colour codes and ids containing spaces; also the old ``id STATUS`` lines."""
    out: StatusMap = {}
    for raw in log.split("\n"):
        line = _ANSI_COLOUR.sub("", raw).translate(_CONTROL)
        status = _status_prefix(line)
        if status is not None:
            if status == FAILED:
                line = line.split(" - ", 1)[0]
            words = line.split()
            if len(words) >= 2 and not (words[0] == SKIPPED and _SKIP_COUNT.match(words[1])):
                out[" ".join(words[1:])] = words[0]
        elif line.endswith(STATUSES):
            words = line.split()
            if len(words) >= 2:
                out[" ".join(words[:-1])] = words[-1]
    return out


def parse_matplotlib(log: str) -> StatusMap:
    """pytest, with enum reprs in ids normalised as matplotlib's expected ids write them."""
    return parse_pytest(log.replace("MouseButton.LEFT", "1").replace("MouseButton.RIGHT", "3"))


def parse_seaborn(log: str) -> StatusMap:
    """seaborn's runs: summary ``FAILED``/``PASSED`` lines and verbose ``id PASSED ...`` lines."""
    out: StatusMap = {}
    for line in log.split("\n"):
        words = line.split()
        if len(words) < 2:
            continue
        if line.startswith(FAILED):
            out[words[1]] = FAILED
        elif f" {PASSED} " in line:
            if words[1] == PASSED:
                out[words[0]] = PASSED
        elif line.startswith(PASSED):
            out[words[1]] = PASSED
    return out


_SYMPY_FAILURE_HEADER = re.compile(r"(_*) (.*)\.py:(.*) (_*)")


def parse_sympy(log: str) -> StatusMap:
    """sympy's ``bin/test --verbose``: ``test_x ok|F|E`` lines and ``__ path.py:test_x __`` headers."""
    out: StatusMap = {}
    for m in _SYMPY_FAILURE_HEADER.finditer(log):
        out[f"{m.group(2)}.py:{m.group(3)}"] = FAILED
    for raw in log.split("\n"):
        line = raw.strip()
        if not line.startswith("test_"):
            continue
        name = line.split()[0]
        if line.endswith(" E"):
            out[name] = ERROR
        if line.endswith(" F"):
            out[name] = FAILED
        if line.endswith(" ok"):
            out[name] = PASSED
    return out


_DJANGO_INTERRUPTED = (
    re.compile(
        r"^(.*?)\s\.\.\.\sTesting\ against\ Django\ installed\ in\ ((?s:.*?))\ silenced\)\.\nok$", re.M
    ),
    re.compile(r"^(.*?)\s\.\.\.\sInternal\ Server\ Error:\ \/(.*)\/\nok$", re.M),
    re.compile(r"^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$", re.M),
)
_DJANGO_OK = (" ... ok", " ... OK", " ...  OK")


def parse_django(log: str) -> StatusMap:
    """Django's ``runtests.py --verbosity 2``: ``name (module.Class) ... ok|FAIL|ERROR|skipped``."""
    out: StatusMap = {}
    last_test: str | None = None
    for raw in log.split("\n"):
        line = raw.strip()
        if "--version is equivalent to version" in line:
            out["--version is equivalent to version"] = PASSED
        if " ... " in line:
            last_test = line.split(" ... ")[0]
        for suffix in _DJANGO_OK:
            if line.endswith(suffix):
                if line.startswith("Applying sites.0002_alter_domain_unique...test_no_migrations"):
                    line = line.split("...", 1)[-1].strip()  # a migration line glued to the test line
                out[line.rsplit(suffix, 1)[0]] = PASSED
                break
        if " ... skipped" in line:
            out[line.split(" ... skipped")[0]] = SKIPPED
        if line.endswith(" ... FAIL"):
            out[line.split(" ... FAIL")[0]] = FAILED
        if line.startswith("FAIL:"):
            out[line.split()[1].strip()] = FAILED
        if line.endswith(" ... ERROR"):
            out[line.split(" ... ERROR")[0]] = ERROR
        if line.startswith("ERROR:"):
            out[line.split()[1].strip()] = ERROR
        if line.lstrip().startswith("ok") and last_test is not None:
            out[last_test] = PASSED  # output printed between "..." and "ok"
    for pattern in _DJANGO_INTERRUPTED:
        for m in pattern.finditer(log):
            out[m.group(1)] = PASSED
    return out


# Family names, and SWE-bench's registry names mapped onto the families.
PARSERS: dict[str, Parser] = {
    "pytest": parse_pytest,
    "pytest_options": parse_pytest_options,
    "pytest_v2": parse_pytest_v2,
    "django": parse_django,
    "sympy": parse_sympy,
    "matplotlib": parse_matplotlib,
    "seaborn": parse_seaborn,
}
_SWEBENCH_ALIASES = {
    "pytest": "astroid flask marshmallow pvlib pyvista sqlfluff xarray pytest",
    "pytest_options": "pydicom requests pylint pytest_options",
    "pytest_v2": "astropy scikit sphinx pytest_v2",
    "django": "django",
    "sympy": "sympy",
    "matplotlib": "matplotlib",
    "seaborn": "seaborn",
}
for _family, _names in _SWEBENCH_ALIASES.items():
    for _name in _names.split():
        PARSERS[f"parse_log_{_name}"] = PARSERS[_family]

# Parser of each SWE-bench repository, for instances that do not name one.
REPO_PARSERS = {
    "astropy/astropy": "pytest_v2",
    "django/django": "django",
    "marshmallow-code/marshmallow": "pytest",
    "matplotlib/matplotlib": "matplotlib",
    "mwaskom/seaborn": "seaborn",
    "pallets/flask": "pytest",
    "psf/requests": "pytest_options",
    "pvlib/pvlib-python": "pytest",
    "pydata/xarray": "pytest",
    "pydicom/pydicom": "pytest_options",
    "pylint-dev/astroid": "pytest",
    "pylint-dev/pylint": "pytest_options",
    "pytest-dev/pytest": "pytest",
    "pyvista/pyvista": "pytest",
    "scikit-learn/scikit-learn": "pytest_v2",
    "sqlfluff/sqlfluff": "pytest",
    "sphinx-doc/sphinx": "pytest_v2",
    "sympy/sympy": "sympy",
}


def get_parser(name: str) -> Parser:
    """The parser called ``name`` (a family or a SWE-bench registry name); KeyError if unknown."""
    try:
        return PARSERS[name]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise KeyError(f"unknown log parser {name!r} (known: {known})") from None
