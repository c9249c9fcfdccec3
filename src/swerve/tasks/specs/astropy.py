"""Specs of astropy: compiled extensions, built once per environment layer.

Pins are the pip sections of SWE-bench's per-instance environment files (the most common set per
version), plus what building the extensions without build isolation needs: the eval script
reinstalls the checkout offline, where pip cannot fetch ``pyproject.toml``'s build requirements,
so they live in the env layer (cython as each version's ``pyproject.toml`` pins it). Instance
layers compile through ccache, one cache per env layer, so the second instance of a version
mostly reuses the first one's objects.
"""

from __future__ import annotations

from swerve.tasks.specs.base import PYTEST_RA, RepoSpec

# pytest and its plugins, as every 4.x/5.x environment file pins them
_TEST_PINS = (
    "attrs==23.1.0 coverage==7.6.2 exceptiongroup==1.1.3 execnet==2.0.2 hypothesis==6.82.6 "
    "iniconfig==2.0.0 numpy==1.25.2 packaging==23.1 pluggy==1.3.0 psutil==5.9.5 pyerfa==2.0.0.3 "
    "pytest==7.4.0 pytest-arraydiff==0.5.0 pytest-astropy==0.10.0 pytest-astropy-header==0.2.2 "
    "pytest-cov==4.1.0 pytest-doctestplus==1.0.0 pytest-filter-subpackage==0.1.2 pytest-mock==3.11.1 "
    "pytest-openfiles==0.5.0 pytest-remotedata==0.4.0 pytest-xdist==3.3.1 pyyaml==6.0.1 "
    "setuptools==68.0.0 sortedcontainers==2.4.0 tomli==2.0.1"
)
# the 3.1 files add what its ``[test]`` extra pulled in (matplotlib, skyfield, ipython, ...)
_EXTRA_31 = (
    "asttokens==2.4.1 certifi==2024.8.30 contourpy==1.3.0 cycler==0.12.1 decorator==5.1.1 "
    "executing==2.1.0 fonttools==4.54.1 importlib-resources==6.4.5 ipython==8.18.1 jedi==0.19.1 "
    "jinja2==3.1.4 jplephem==2.22 kiwisolver==1.4.7 markupsafe==3.0.2 matplotlib==3.9.2 "
    "matplotlib-inline==0.1.7 objgraph==3.6.2 parso==0.8.4 pexpect==4.9.0 pillow==11.0.0 "
    "prompt-toolkit==3.0.48 ptyprocess==0.7.0 pure-eval==0.2.3 pygments==2.18.0 pyparsing==3.2.0 "
    "pytest-mpl==0.17.0 python-dateutil==2.9.0.post0 sgp4==2.23 six==1.16.0 skyfield==1.49 "
    "stack-data==0.6.3 traitlets==5.14.3 typing-extensions==4.12.2 wcwidth==0.2.13 zipp==3.20.2"
)
# build requirements of pyproject.toml (4.3+), installed into the env layer
_BUILD = "wheel==0.44.0 setuptools-scm==7.1.0 extension-helpers==1.0.0"
# 1.3: python 3.6 and the old set (setuptools 38.2.4 came from conda there). markupsafe 1.0 is
# re-pinned 1.1.1: 1.0 is an sdist whose setup.py imports setuptools.Feature, which the newest
# setuptools for Python 3.6 (the one its isolated build gets) no longer has
_PINS_13 = (
    "setuptools==38.2.4 wheel==0.37.1 apipkg==2.1.1 async-generator==1.10 attrs==17.3.0 "
    "contextvars==2.4 coverage==6.2 cython==0.27.3 exceptiongroup==0.0.0a0 execnet==1.5.0 "
    "hypothesis==3.44.2 idna==3.10 immutables==0.19 jinja2==2.10 markupsafe==1.1.1 numpy==1.16.0 "
    "outcome==1.0.0 packaging==16.8 pluggy==0.6.0 psutil==5.4.2 py==1.11.0 pyerfa==1.7.0 "
    "pyparsing==3.1.4 pytest==3.3.1 pytest-arraydiff==0.1 pytest-astropy==0.2.1 "
    "pytest-astropy-header==0.1 pytest-cov==2.5.1 pytest-doctestplus==0.1.2 "
    "pytest-filter-subpackage==0.1 pytest-forked==0.2 pytest-mock==1.6.3 pytest-openfiles==0.2.0 "
    "pytest-remotedata==0.2.0 pytest-xdist==1.20.1 pyyaml==3.12 six==1.16.0 sniffio==1.2.0 "
    "sortedcontainers==1.5.9 tomli==0.2.0 trio==0.8.0 typing-extensions==4.1.1"
)

# SWE-bench's install, without build isolation: the env layer holds the build requirements
INSTALL = ("python -m pip install --no-build-isolation -e .[test] --verbose",)
# 4.1+: SWE-bench pins setuptools in pyproject's build requirements (kept: same checkout state)
PIN_SETUPTOOLS = (
    'sed -i \'s/requires = \\["setuptools",/requires = ["setuptools==68.0.0",/\' pyproject.toml',
)


# 1.x and 3.x vendor astropy_helpers as a git submodule, which a snapshot does not carry: the
# release of the same date is unpacked from PyPI into its folder at build time
def _helpers(version: str) -> tuple[str, ...]:
    return (
        "test -f astropy_helpers/setup.py || { rm -rf /tmp/swerve-ah-$$ && "
        f"python -m pip download --no-deps --no-binary :all: -d /tmp/swerve-ah-$$ astropy-helpers=={version} && "
        "mkdir -p astropy_helpers && tar -xzf /tmp/swerve-ah-$$/astropy-helpers-*.tar.gz "
        "--strip-components=1 -C astropy_helpers && rm -rf /tmp/swerve-ah-$$; }",
    )


def _modern(cython: str) -> RepoSpec:
    return RepoSpec(
        python="3.9",
        pins=f"{_TEST_PINS} {_BUILD} cython=={cython}",
        test_cmd=PYTEST_RA,
        install=INSTALL,
        pre_install=PIN_SETUPTOOLS,
        compiler_cache=True,
    )


SPECS: dict[str, dict[str, RepoSpec]] = {
    "astropy/astropy": {
        "1.3": RepoSpec(
            python="3.6",
            pins=_PINS_13,
            install=INSTALL,
            pre_install=_helpers("3.0.2"),
            test_cmd="pytest -rA -vv -o console_output_style=classic --tb=no",
            compiler_cache=True,
        ),
        # pip as in its environment files: a newer one builds a setup.py-only checkout through PEP 660
        "3.1": RepoSpec(
            python="3.9",
            pins=f"{_TEST_PINS} {_EXTRA_31} wheel==0.44.0 cython==0.29.30 pip==24.2",
            install=INSTALL,
            pre_install=_helpers("3.2.2"),
            compiler_cache=True,
        ),
        "4.3": _modern("0.29.22"),
        "5.0": _modern("0.29.30"),
        "5.1": _modern("0.29.30"),
        "5.2": _modern("0.29.34"),
    }
}
# environment files that differ from their version's shared set
INSTANCE_PINS: dict[str, str] = {
    "astropy__astropy-13398": "hypothesis==6.46.7",
    "astropy__astropy-13453": "hypothesis==6.46.7",
    # its eval script asks pip for 'pytest<7.2' (offline in the sandbox: satisfied only if present)
    "astropy__astropy-8707": "pytest==7.1.3",
}
