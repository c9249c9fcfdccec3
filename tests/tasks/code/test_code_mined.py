"""Code tasks mined from library modules: documented, self-contained functions with doctest examples."""

from __future__ import annotations

import pytest

from swerve.tasks.code.codec import decode
from swerve.tasks.code.mined import load_mined, mine_module

MODULE = '''"""A module."""
import re
from .sibling import helper


def slug(text):
    """Lower-case words joined by dashes.

    >>> slug("Hello  World")
    'hello-world'
    >>> slug(42)
    Traceback (most recent call last):
    """
    return "-".join(re.findall(r"\\w+", text.lower()))


def uses_helper(x):
    """>>> uses_helper(1)
    2
    """
    return helper(x)


def _private(x):
    """>>> _private(1)
    1
    """
    return x


def undocumented(x):
    return x
'''


def test_a_self_contained_documented_function_becomes_a_task(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text(MODULE)
    (task,) = mine_module(path, "lib", "mod")
    assert task.id == "lib/mod.slug" and task.entry_point == "slug" and task.source == "mined"
    assert task.prompt.startswith("import re\n") and "return" not in task.prompt
    assert task.reference.startswith(task.prompt) and task.reference.rstrip().endswith('text.lower()))')
    ((args, expected),) = [(decode(t.args), decode(t.expected)) for t in task.tests]
    assert args == ["Hello  World"] and expected == "hello-world"


def test_the_built_in_suites_libraries_give_tasks():
    from swerve.tasks.builtin.libraries import get_library
    from swerve.tasks.builtin.sources import library_dir

    if not (library_dir(get_library("inflection")) / "pristine.ok").exists():
        pytest.skip("the inflection sdist is not in the cache (it is downloaded on first use)")
    tasks = load_mined("mined:inflection")
    assert tasks and all(t.id.startswith("inflection/") and t.tests for t in tasks)
    assert "inflection/inflection.dasherize" in {t.id for t in tasks}
