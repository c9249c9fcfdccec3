"""The built-in suite: real bugs injected into pinned PyPI libraries, with their own tests as judges.

``load_builtin()`` gives the curated tasks (stored as data in ``data/``); ``generate`` makes more
(``python -m swerve.tasks.builtin.generate --library NAME --count N``); ``validate`` checks that
each task's bug breaks its FAIL_TO_PASS tests and its gold patch fixes them.
"""

from swerve.tasks.builtin.libraries import LIBRARIES, Library, get_library
from swerve.tasks.builtin.suite import load_builtin, prepare_tasks
from swerve.tasks.generate.gitops import SourceError

__all__ = ["LIBRARIES", "Library", "SourceError", "get_library", "load_builtin", "prepare_tasks"]
