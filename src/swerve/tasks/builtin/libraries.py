"""The libraries the built-in suite is made from: pinned PyPI sdists that ship their own tests.

Each entry records where the sdist comes from and its sha256 (checked on every download), where the
library's code lives inside it (the files bug injection may touch), where its tests live, the test
command, and the pins of the venv the tests run in. All of them are small, pure Python, and have
suites that run in seconds with nothing but pytest.
"""

from __future__ import annotations

from dataclasses import dataclass

from swerve.errors import TaskError
from swerve.tasks.generate.project import PYTEST_PINS

# -rA: one "STATUS node-id" line per test, which is what the graders read.
PYTEST = "python -m pytest -rA --tb=short -p no:cacheprovider"


@dataclass(frozen=True)
class Library:
    """One pinned library and how to test it."""

    name: str  # the PyPI name
    version: str
    sdist: str  # the sdist's file name
    url: str  # where PyPI serves it
    sha256: str
    size: int
    license: str
    import_root: str  # folder, relative to the sdist root, that goes on sys.path ("." or "src")
    source_files: tuple[str, ...]  # files bug injection may mutate (relative to the sdist root)
    test_paths: tuple[str, ...]  # what the full suite runs
    test_command: str = PYTEST
    extra_pins: tuple[str, ...] = ()

    @property
    def pins(self) -> tuple[str, ...]:
        return PYTEST_PINS + self.extra_pins

    @property
    def key(self) -> str:
        """``name-version``: the folder name of this library's cached files."""
        return f"{self.name}-{self.version}"

    @property
    def repo(self) -> str:
        """The label tasks of this library carry as their ``repo``."""
        return f"pypi/{self.name}"


def _files(*names: str) -> tuple[str, ...]:
    return tuple(names)


LIBRARIES: dict[str, Library] = {
    lib.name: lib
    for lib in (
        Library(
            name="inflection",
            version="0.5.1",
            sdist="inflection-0.5.1.tar.gz",
            url="https://files.pythonhosted.org/packages/e1/7e/691d061b7329bc8d54edbf0ec22fbfb2afe61facb681f9aaa9bff7a27d04/inflection-0.5.1.tar.gz",
            sha256="1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417",
            size=15091,
            license="MIT",
            import_root=".",
            source_files=_files("inflection/__init__.py"),
            test_paths=("test_inflection.py",),
        ),
        Library(
            name="toolz",
            version="1.2.0",
            sdist="toolz-1.2.0.tar.gz",
            url="https://files.pythonhosted.org/packages/31/6f/ae20c212a07aa2d156c787383d8088a5e045ee39628661edb190c97e1659/toolz-1.2.0.tar.gz",
            sha256="9667a038e9d6ecba37995e26cb2f59ec6420b6ad8dd9677de59db9b956b08490",
            size=55442,
            license="BSD-3-Clause",
            import_root=".",
            source_files=_files(
                "toolz/dicttoolz.py",
                "toolz/functoolz.py",
                "toolz/itertoolz.py",
                "toolz/recipes.py",
                "toolz/utils.py",
            ),
            test_paths=("toolz/tests",),
        ),
        Library(
            name="cachetools",
            version="8.0.1",
            sdist="cachetools-8.0.1.tar.gz",
            url="https://files.pythonhosted.org/packages/06/ce/d7ce62d82ec620e3b08538ce8948f4b3d7cb33829fc274413560004edd6d/cachetools-8.0.1.tar.gz",
            sha256="deb1d376d4d28c2f33f3e3058043b005e0af75c35c094bd54053e27d2906ad95",
            size=50746,
            license="MIT",
            import_root="src",
            source_files=_files(
                "src/cachetools/__init__.py",
                "src/cachetools/_cached.py",
                "src/cachetools/_cachedmethod.py",
                "src/cachetools/func.py",
                "src/cachetools/keys.py",
            ),
            test_paths=("tests",),
        ),
        Library(
            name="parse",
            version="1.22.4",
            sdist="parse-1.22.4.tar.gz",
            url="https://files.pythonhosted.org/packages/9e/0f/4bada23d2848aaa61f3577181dbd83895fa49fb9beb406835ed7eaca1b96/parse-1.22.4.tar.gz",
            sha256="706d458feed5a81b02768d3156e8070baf6cee7d150a3a3c0cd43101a875c3b5",
            size=40279,
            license="MIT",
            import_root=".",
            source_files=_files("parse/__init__.py"),
            test_paths=("tests",),
            # the project's addopts ask for pytest-cov; the suite needs none of it
            test_command=PYTEST + " -o addopts=",
        ),
        Library(
            name="tabulate",
            version="0.10.0",
            sdist="tabulate-0.10.0.tar.gz",
            url="https://files.pythonhosted.org/packages/46/58/8c37dea7bbf769b20d58e7ace7e5edfe65b849442b00ffcdd56be88697c6/tabulate-0.10.0.tar.gz",
            sha256="e2cfde8f79420f6deeffdeda9aaec3b6bc5abce947655d17ac662b126e48a60d",
            size=91754,
            license="MIT",
            import_root=".",
            source_files=_files("tabulate/__init__.py"),
            test_paths=("test",),
            extra_pins=("wcwidth==0.2.13",),
        ),
        Library(
            name="boltons",
            version="26.2.0",
            sdist="boltons-26.2.0.tar.gz",
            url="https://files.pythonhosted.org/packages/71/56/14c4a4931910a81ddeccfbe227925ea738e3c445d3e2af960f0bcbba1616/boltons-26.2.0.tar.gz",
            sha256="d39cfd15c1a1c3bd4d705c82252fa9edb8e4f5e8cc039f8e39afac7b1b47e92c",
            size=242047,
            license="BSD-3-Clause",
            import_root=".",
            source_files=_files(
                "boltons/dictutils.py",
                "boltons/iterutils.py",
                "boltons/listutils.py",
                "boltons/mathutils.py",
                "boltons/setutils.py",
                "boltons/strutils.py",
                "boltons/queueutils.py",
                "boltons/urlutils.py",
                "boltons/timeutils.py",
                "boltons/formatutils.py",
            ),
            test_paths=("tests",),
        ),
    )
}


def get_library(name: str) -> Library:
    """The library called ``name``; a clear error naming the known ones otherwise."""
    try:
        return LIBRARIES[name]
    except KeyError:
        known = ", ".join(sorted(LIBRARIES))
        raise TaskError(f"unknown built-in library {name!r} (known: {known})") from None
