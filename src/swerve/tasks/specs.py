"""Environment and test facts for the SWE-bench repositories that can be built here.

One entry per (repository, version): the Python it needs, the pins of its venv (the conda-only
entries of SWE-bench's environments re-pinned for pip, the test runner pinned as the dataset pins
it), the commands that prepare and install the checkout, and the test command. The pins were read
from the per-instance environment files SWE-bench publishes for Verified (the most common set per
version); the commands from its per-repository specifications.

Repositories missing here (django, matplotlib, scikit-learn, astropy, xarray, ...) still load;
their instances are reported environment-unavailable with "no environment spec" as the cause.
"""

from __future__ import annotations

from dataclasses import dataclass

from swerve.tasks.model import EnvSpec

PYTEST_RA = "pytest -rA"
PYTEST_NO_HEADER = "pytest --no-header -rA"
SYMPY_TEST = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
SPHINX_TEST = "tox --current-env -epy39 -v --"
DJANGO_TEST = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"

# Installs the checkout in editable mode into the per-instance venv, with whatever dependencies the
# env lacks (from PyPI, at layer-build time only; what the env has and satisfies is kept).
EDITABLE = "python -m pip install -e ."


@dataclass(frozen=True)
class RepoSpec:
    """What one (repository, version) needs."""

    python: str
    pins: str  # whitespace-separated pip requirements
    test_cmd: str = PYTEST_RA
    install: tuple[str, ...] = (EDITABLE,)
    pre_install: tuple[str, ...] = ()
    eval_env: tuple[tuple[str, str], ...] = ()
    system_tools: tuple[str, ...] = ()

    def env_spec(self) -> EnvSpec:
        return EnvSpec(
            python=self.python,
            pins=tuple(self.pins.split()),
            pre_install=self.pre_install,
            install=self.install,
            eval_env=self.eval_env,
            system_tools=self.system_tools,
        )


# -- pin sets -------------------------------------------------------------------------------------
REQUESTS_1_1 = """
exceptiongroup==1.2.0 iniconfig==1.1.1 packaging==24.1 pluggy==1.0.0 pytest==7.4.4 setuptools==75.1.0
tomli==2.0.1
"""  # versions 1.1, 2.0, 2.3, 2.4, 2.9
REQUESTS_2_26 = """
certifi==2024.8.30 charset-normalizer==2.0.12 exceptiongroup==1.2.0 idna==3.10 iniconfig==1.1.1
packaging==24.1 pluggy==1.0.0 pytest==7.4.4 setuptools==75.1.0 tomli==2.0.1 urllib3==1.26.20
"""  # versions 2.26, 2.27
FLASK_2_3 = """
alabaster==0.7.13 asgiref==3.6.0 babel==2.12.1 build==0.10.0 cachetools==5.3.0 certifi==2022.12.7
cffi==1.15.1 cfgv==3.3.1 chardet==5.1.0 charset-normalizer==3.1.0 click==8.1.3 colorama==0.4.6
cryptography==40.0.1 distlib==0.3.6 docutils==0.17.1 filelock==3.11.0 identify==2.5.22 idna==3.4
imagesize==1.4.1 iniconfig==2.0.0 itsdangerous==2.1.2 jinja2==3.1.2 markupsafe==2.1.1 mypy==1.2.0
mypy-extensions==1.0.0 nodeenv==1.7.0 packaging==23.0 pallets-sphinx-themes==2.0.3
pip-compile-multi==2.6.2 pip-tools==6.13.0 platformdirs==3.2.0 pluggy==1.0.0 pre-commit==3.2.2
pycparser==2.21 pygments==2.15.0 pyproject-api==1.5.1 pyproject-hooks==1.0.0 pytest==7.3.0
python-dotenv==1.0.0 pyyaml==6.0 requests==2.28.2 setuptools==75.1.0 snowballstemmer==2.2.0
sphinx==4.5.0 sphinx-issues==3.0.1 sphinx-tabs==3.3.1 sphinxcontrib-applehelp==1.0.4
sphinxcontrib-devhelp==1.0.2 sphinxcontrib-htmlhelp==2.0.1 sphinxcontrib-jsmath==1.0.1
sphinxcontrib-log-cabinet==1.0.1 sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.5
toposort==1.10 tox==4.4.11 types-contextvars==2.4.7.2 types-dataclasses==0.6.6
types-setuptools==67.6.0.7 typing-extensions==4.5.0 urllib3==1.26.15 virtualenv==20.21.0 werkzeug==2.3.7
wheel==0.40.0
"""  # versions 2.3
PYTEST_4_5 = """
atomicwrites==1.4.1 attrs==23.1.0 more-itertools==10.1.0 pluggy==0.11.0 py==1.11.0 setuptools==68.0.0
six==1.16.0 wcwidth==0.2.6
"""  # versions 4.5
PYTEST_4_6 = """
atomicwrites==1.4.1 attrs==23.1.0 importlib-metadata==8.5.0 more-itertools==10.1.0 packaging==23.1
pluggy==0.13.1 py==1.11.0 setuptools==75.1.0 six==1.16.0 wcwidth==0.2.6 zipp==3.20.2
"""  # versions 4.6
PYTEST_5_0 = """
atomicwrites==1.4.1 attrs==23.1.0 importlib-metadata==8.5.0 more-itertools==10.1.0 packaging==23.1
pluggy==0.13.1 py==1.11.0 setuptools==75.1.0 wcwidth==0.2.6 zipp==3.20.2
"""  # versions 5.0
PYTEST_5_1 = """
atomicwrites==1.4.1 attrs==23.1.0 more-itertools==10.1.0 packaging==23.1 pluggy==0.13.1 py==1.11.0
setuptools==75.1.0 wcwidth==0.2.6
"""  # versions 5.1, 5.2
PYTEST_5_4 = """
attrs==23.1.0 more-itertools==10.1.0 packaging==23.1 pluggy==0.13.1 py==1.11.0 setuptools==75.1.0
wcwidth==0.2.13
"""  # versions 5.4
PYTEST_6_0 = """
attrs==23.1.0 iniconfig==2.0.0 more-itertools==10.1.0 packaging==23.1 pluggy==0.13.1 py==1.11.0
setuptools==75.1.0 toml==0.10.2
"""  # versions 6.0
PYTEST_6_2 = """
attrs==23.1.0 iniconfig==2.0.0 packaging==23.1 pluggy==0.13.1 py==1.11.0 setuptools==75.1.0 toml==0.10.2
"""  # versions 6.2, 6.3
PYTEST_7_2 = """
attrs==23.1.0 iniconfig==2.0.0 packaging==23.1 pluggy==0.13.1 py==1.11.0 setuptools==75.1.0 tomli==2.0.1
"""  # versions 7.2
SYMPY_1_0 = """
flake8==7.1.1 flake8-comprehensions==3.15.0 mccabe==0.7.0 mpmath==1.3.0 pycodestyle==2.12.1
pyflakes==3.2.0 setuptools==75.1.0
"""  # versions 1.0, 1.1, 1.10, 1.11, 1.12, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9
PYLINT_2_10 = """
astroid==2.6.6 attrs==19.3.0 black==21.8b0 certifi==2024.8.30 cfgv==3.4.0 charset-normalizer==3.4.0
cli-ui==0.10.3 click==8.1.7 colorama==0.4.6 coverage==5.5 coveralls==3.3.1 distlib==0.3.9 docopt==0.6.2
execnet==2.1.1 filelock==3.16.1 flake8==3.9.2 gprof2dot==2024.6.6 identify==2.6.1 idna==3.10
iniconfig==2.0.0 isort==5.9.3 lazy-object-proxy==1.10.0 mccabe==0.6.1 mypy==0.910 mypy-extensions==0.4.4
nodeenv==1.9.1 packaging==24.1 pathspec==0.12.1 platformdirs==4.3.6 pluggy==1.5.0 pre-commit==2.21.0
py==1.11.0 py-cpuinfo==9.0.0 pycodestyle==2.7.0 pyenchant==3.2.2 pyflakes==2.3.1 pytest==6.2.5
pytest-benchmark==3.4.1 pytest-cov==2.12.1 pytest-forked==1.6.0 pytest-profiling==1.7.0
pytest-xdist==2.5.0 pyyaml==6.0.2 regex==2024.9.11 requests==2.32.3 schema==0.7.7 setuptools==75.1.0
six==1.16.0 tabulate==0.8.10 tbump==6.3.2 toml==0.10.2 tomli==1.2.3 tomlkit==0.13.2
types-pkg-resources==0.1.3 types-toml==0.1.5 typing-extensions==4.12.2 unidecode==1.3.8 urllib3==2.2.3
virtualenv==20.27.0 wrapt==1.12.1
"""  # versions 2.10
PYLINT_2_14 = """
astroid==2.11.6 black==22.3.0 cachetools==5.5.0 certifi==2024.8.30 cfgv==3.4.0 chardet==5.2.0
charset-normalizer==3.4.0 cli-ui==0.17.2 click==8.1.7 colorama==0.4.6 contributors-txt==1.0.0
coverage==6.5.0 coveralls==3.3.1 dill==0.3.9 distlib==0.3.9 docopt==0.6.2 exceptiongroup==1.2.2
execnet==2.1.1 filelock==3.16.1 flake8==4.0.1 flake8-typing-imports==1.12.0 gprof2dot==2024.6.6
identify==2.6.1 idna==3.10 iniconfig==2.0.0 isort==5.10.1 lazy-object-proxy==1.10.0 mccabe==0.6.1
mypy==0.960 mypy-extensions==1.0.0 nodeenv==1.9.1 packaging==24.1 pathspec==0.12.1 platformdirs==4.3.6
pluggy==1.5.0 pre-commit==2.21.0 py==1.11.0 py-cpuinfo==9.0.0 pycodestyle==2.8.0 pyflakes==2.4.0
pyproject-api==1.8.0 pytest==7.4.4 pytest-benchmark==3.4.1 pytest-cov==3.0.0 pytest-forked==1.6.0
pytest-profiling==1.7.0 pytest-timeout==2.3.1 pytest-xdist==2.5.0 pyyaml==6.0.2 requests==2.32.3
schema==0.7.7 setuptools==75.1.0 six==1.16.0 tabulate==0.8.10 tbump==6.9.0 tomli==2.0.2 tomlkit==0.13.2
tox==4.23.2 types-pkg-resources==0.1.3 typing-extensions==4.12.2 unidecode==1.3.8 urllib3==2.2.3
virtualenv==20.27.0 wrapt==1.16.0
"""  # versions 2.14
PYLINT_2_15 = """
astroid==2.11.7 black==22.6.0 cachetools==5.5.0 certifi==2024.8.30 cfgv==3.4.0 chardet==5.2.0
charset-normalizer==3.4.0 cli-ui==0.17.2 click==8.1.7 click-default-group==1.2.4 colorama==0.4.6
contributors-txt==1.0.0 coverage==6.5.0 coveralls==3.3.1 dill==0.3.9 distlib==0.3.9 docopt==0.6.2
exceptiongroup==1.2.2 execnet==2.1.1 filelock==3.16.1 flake8==5.0.4 flake8-typing-imports==1.13.0
gprof2dot==2024.6.6 identify==2.6.1 idna==3.10 incremental==24.7.2 iniconfig==2.0.0 isort==5.10.1
jinja2==3.1.4 lazy-object-proxy==1.10.0 markupsafe==3.0.2 mccabe==0.7.0 mypy==0.971
mypy-extensions==1.0.0 nodeenv==1.9.1 packaging==24.1 pathspec==0.12.1 platformdirs==4.3.6 pluggy==1.5.0
pre-commit==2.21.0 py==1.11.0 py-cpuinfo==9.0.0 pycodestyle==2.9.1 pyflakes==2.5.0 pyproject-api==1.8.0
pytest==7.4.4 pytest-benchmark==4.0.0 pytest-cov==3.0.0 pytest-forked==1.6.0 pytest-profiling==1.7.0
pytest-timeout==2.3.1 pytest-xdist==2.5.0 pyyaml==6.0.2 requests==2.32.3 schema==0.7.7
setuptools==75.1.0 six==1.16.0 tabulate==0.8.10 tbump==6.9.0 tomli==2.0.2 tomlkit==0.13.2
towncrier==22.12.0 tox==4.23.2 types-pkg-resources==0.1.3 typing-extensions==4.12.2 unidecode==1.3.8
urllib3==2.2.3 virtualenv==20.27.0 wrapt==1.16.0
"""  # versions 2.15
PYLINT_2_9 = """
appdirs==1.4.4 astroid==2.6.5 attrs==19.3.0 black==21.7b0 certifi==2024.8.30 cfgv==3.4.0
charset-normalizer==3.4.0 cli-ui==0.10.3 click==8.1.7 colorama==0.4.6 coverage==5.5 coveralls==3.3.1
distlib==0.3.9 docopt==0.6.2 execnet==2.1.1 filelock==3.16.1 flake8==3.9.2 gprof2dot==2024.6.6
identify==2.6.1 idna==3.10 iniconfig==2.0.0 isort==5.9.2 lazy-object-proxy==1.10.0 mccabe==0.6.1
mypy==0.910 mypy-extensions==0.4.4 nodeenv==1.9.1 packaging==24.1 pathspec==0.12.1 platformdirs==4.3.6
pluggy==1.5.0 pre-commit==2.21.0 py==1.11.0 py-cpuinfo==9.0.0 pycodestyle==2.7.0 pyenchant==3.2.2
pyflakes==2.3.1 pytest==6.2.5 pytest-benchmark==3.4.1 pytest-cov==2.12.1 pytest-forked==1.6.0
pytest-profiling==1.7.0 pytest-xdist==2.5.0 pyyaml==6.0.2 regex==2024.9.11 requests==2.32.3
schema==0.7.7 setuptools==75.1.0 six==1.16.0 tabulate==0.8.10 tbump==6.3.2 toml==0.10.2 tomli==1.2.3
tomlkit==0.13.2 types-pkg-resources==0.1.3 types-toml==0.1.3 typing-extensions==4.12.2 unidecode==1.3.8
urllib3==2.2.3 virtualenv==20.27.0 wrapt==1.12.1
"""  # versions 2.9
PYLINT_3_0 = """
astroid==3.0.3 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0 charset-normalizer==3.4.0
cli-ui==0.17.2 click==8.1.7 colorama==0.4.6 contributors-txt==1.0.0 coverage==7.6.4 dill==0.3.9
distlib==0.3.9 docopt==0.6.2 exceptiongroup==1.2.2 execnet==2.1.1 filelock==3.16.1 gprof2dot==2024.6.6
idna==3.10 importlib-resources==6.4.5 incremental==22.10.0 iniconfig==2.0.0 isort==5.13.2 jinja2==3.1.4
markupsafe==3.0.2 mccabe==0.7.0 packaging==24.1 platformdirs==4.3.6 pluggy==1.5.0 py==1.11.0
py-cpuinfo==9.0.0 pyproject-api==1.8.0 pytest==7.4.4 pytest-benchmark==4.0.0 pytest-cov==4.1.0
pytest-profiling==1.7.0 pytest-timeout==2.3.1 pytest-xdist==3.6.1 requests==2.32.3 schema==0.7.7
setuptools==41.6.0 six==1.16.0 tabulate==0.8.10 tbump==6.10.0 tomli==2.0.2 tomlkit==0.11.8
towncrier==23.11.0 tox==4.23.2 types-pkg-resources==0.1.3 typing-extensions==4.12.2 unidecode==1.3.8
urllib3==2.2.3 virtualenv==20.27.0 zipp==3.20.2
"""  # versions 3.0
SEABORN_0_12 = """
cfgv==3.4.0 contourpy==1.1.0 coverage==7.6.4 cycler==0.11.0 distlib==0.3.9 exceptiongroup==1.2.2
execnet==2.1.1 filelock==3.16.1 flake8==7.1.1 fonttools==4.42.1 identify==2.6.1
importlib-resources==6.0.1 iniconfig==2.0.0 kiwisolver==1.4.5 matplotlib==3.7.2 mccabe==0.7.0
mypy==1.13.0 mypy-extensions==1.0.0 nodeenv==1.9.1 numpy==1.25.2 packaging==23.1 pandas==2.0.0
pandas-stubs==2.2.2.240807 pillow==10.0.0 platformdirs==4.3.6 pluggy==1.5.0 pre-commit==4.0.1
pycodestyle==2.12.1 pyflakes==3.2.0 pyparsing==3.0.9 pytest==8.3.3 pytest-cov==5.0.0 pytest-xdist==3.6.1
python-dateutil==2.8.2 pytz==2023.3.post1 pyyaml==6.0.2 scipy==1.11.2 setuptools==75.1.0 six==1.16.0
tomli==2.0.2 types-pytz==2024.2.0.20241003 typing-extensions==4.12.2 tzdata==2023.1 virtualenv==20.27.0
zipp==3.16.2
"""  # versions 0.12
SPHINX_3_0 = """
alabaster==0.7.11 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 coverage==7.6.4 cython==3.0.11 distlib==0.3.9 docutils==0.21.2
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1 iniconfig==2.0.0
jinja2==2.11.3 markupsafe==2.0.1 packaging==24.1 platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0
pyproject-api==1.8.0 pytest==8.3.3 pytest-cov==5.0.0 requests==2.32.3 setuptools==75.1.0 six==1.16.0
snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11 typed-ast==1.5.5 urllib3==2.2.3
virtualenv==20.26.6 webencodings==0.5.1
"""  # versions 3.0, 3.1, 3.2, 3.3
SPHINX_3_4 = """
alabaster==0.7.11 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 coverage==7.6.4 cython==3.0.11 distlib==0.3.9 docutils==0.21.2
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1 iniconfig==2.0.0
jinja2==2.11.3 markupsafe==2.0.1 packaging==24.1 platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0
pyproject-api==1.8.0 pytest==8.3.3 pytest-cov==5.0.0 requests==2.32.3 setuptools==75.1.0 six==1.16.0
snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11 urllib3==2.2.3
virtualenv==20.26.6 webencodings==0.5.1
"""  # versions 3.4, 3.5, 4.0
SPHINX_4_1 = """
alabaster==0.7.11 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 coverage==7.6.4 cython==3.0.11 distlib==0.3.9 docutils==0.17.1
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1 iniconfig==2.0.0
jinja2==2.11.3 markupsafe==2.0.1 packaging==24.1 platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0
pyproject-api==1.8.0 pytest==8.3.3 pytest-cov==5.0.0 requests==2.32.3 setuptools==75.1.0 six==1.16.0
snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11 urllib3==2.2.3
virtualenv==20.26.6 webencodings==0.5.1
"""  # versions 4.1, 4.2, 4.3
SPHINX_5_0 = """
alabaster==0.7.16 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 cython==3.0.11 distlib==0.3.9 docutils==0.18.1
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1
importlib-metadata==8.5.0 iniconfig==2.0.0 jinja2==3.1.4 markupsafe==3.0.2 packaging==24.1
platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0 pyproject-api==1.8.0 pytest==8.3.3 requests==2.32.3
setuptools==75.1.0 six==1.16.0 snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11
urllib3==2.2.3 virtualenv==20.26.6 webencodings==0.5.1 zipp==3.20.2
"""  # versions 5.0, 5.1
SPHINX_5_2 = """
alabaster==0.7.16 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 cython==3.0.11 distlib==0.3.9 docutils==0.19
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1
importlib-metadata==8.5.0 iniconfig==2.0.0 jinja2==3.1.4 markupsafe==3.0.2 packaging==24.1
platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0 pyproject-api==1.8.0 pytest==8.3.3 requests==2.32.3
setuptools==75.1.0 six==1.16.0 snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11
urllib3==2.2.3 virtualenv==20.26.6 webencodings==0.5.1 zipp==3.20.2
"""  # versions 5.2
SPHINX_7_1 = """
alabaster==0.7.16 babel==2.16.0 cachetools==5.5.0 certifi==2024.8.30 chardet==5.2.0
charset-normalizer==3.4.0 colorama==0.4.6 cython==3.0.11 distlib==0.3.9 docutils==0.20.1
exceptiongroup==1.2.2 filelock==3.16.1 html5lib==1.1 idna==3.10 imagesize==1.4.1
importlib-metadata==8.5.0 iniconfig==2.0.0 jinja2==3.1.4 markupsafe==3.0.2 packaging==24.1
platformdirs==4.3.6 pluggy==1.5.0 pygments==2.18.0 pyproject-api==1.8.0 pytest==8.3.3 requests==2.32.3
setuptools==75.1.0 six==1.16.0 snowballstemmer==2.2.0 tomli==2.0.2 tox==4.16.0 tox-current-env==0.0.11
urllib3==2.2.3 virtualenv==20.26.6 webencodings==0.5.1 zipp==3.20.2
"""  # versions 7.1, 7.2

# Build requirements that the offline install inside a sandbox needs already present.
PYTEST_BUILD = " setuptools-scm==8.1.0 wheel==0.44.0"
SPHINX_PRE = ("sed -i 's/pytest/pytest -rA/' tox.ini",)
SPHINX_OLD_PRE = (
    *SPHINX_PRE,
    "sed -i 's/Jinja2>=2.3/Jinja2<3.0/' setup.py",
    "sed -i 's/sphinxcontrib-applehelp/sphinxcontrib-applehelp<=1.0.7/' setup.py",
    "sed -i 's/sphinxcontrib-devhelp/sphinxcontrib-devhelp<=1.0.5/' setup.py",
    "sed -i 's/sphinxcontrib-qthelp/sphinxcontrib-qthelp<=1.0.6/' setup.py",
    "sed -i 's/alabaster>=0.7,<0.8/alabaster>=0.7,<0.7.12/' setup.py",
    "sed -i \"s/'packaging',/'packaging', 'markupsafe<=2.0.1',/\" setup.py",
    "sed -i 's/sphinxcontrib-htmlhelp>=2.0.0/sphinxcontrib-htmlhelp>=2.0.0,<=2.0.4/' setup.py",
    "sed -i 's/sphinxcontrib-serializinghtml>=1.1.5/sphinxcontrib-serializinghtml>=1.1.5,<=1.1.9/' setup.py",
    "sed -i 's/sphinxcontrib-htmlhelp$/sphinxcontrib-htmlhelp<=2.0.4/' setup.py",
    "sed -i 's/sphinxcontrib-serializinghtml$/sphinxcontrib-serializinghtml<=1.1.9/' setup.py",
)
SPHINX_INSTALL = ("python -m pip install -e .[test]",)
# tox-current-env links .tox/py39/bin/python to the interpreter itself, which outside its venv
# directory no longer sees the venv's packages: name them explicitly.
SPHINX_ENV = (("PYTHONPATH", "{testbed}:{instance_site}:{env_site}"),)
SYMPY_ENV = (("PYTHONWARNINGS", "ignore::UserWarning,ignore::SyntaxWarning"),)


def _versions(names: str, spec: RepoSpec) -> dict[str, RepoSpec]:
    return {v: spec for v in names.split()}


SPECS: dict[str, dict[str, RepoSpec]] = {
    "psf/requests": {
        **_versions(
            "1.1 2.0 2.3 2.4 2.9", RepoSpec("3.9", REQUESTS_1_1, install=("python -m pip install .",))
        ),
        **_versions("2.26 2.27", RepoSpec("3.9", REQUESTS_2_26, install=("python -m pip install .",))),
    },
    "pallets/flask": _versions("2.3", RepoSpec("3.11", FLASK_2_3)),
    "pytest-dev/pytest": {
        **_versions("4.5", RepoSpec("3.9", PYTEST_4_5 + PYTEST_BUILD)),
        **_versions("4.6", RepoSpec("3.9", PYTEST_4_6 + PYTEST_BUILD)),
        **_versions("5.0", RepoSpec("3.9", PYTEST_5_0 + PYTEST_BUILD)),
        **_versions("5.1 5.2", RepoSpec("3.9", PYTEST_5_1 + PYTEST_BUILD)),
        **_versions("5.4", RepoSpec("3.9", PYTEST_5_4 + PYTEST_BUILD)),
        **_versions("6.0", RepoSpec("3.9", PYTEST_6_0 + PYTEST_BUILD)),
        **_versions("6.2", RepoSpec("3.9", PYTEST_6_2 + PYTEST_BUILD)),
        **_versions(
            "6.3", RepoSpec("3.9", PYTEST_6_2 + PYTEST_BUILD, pre_install=("sed -i 's/>=>=/>=/' setup.cfg",))
        ),
        **_versions("7.2", RepoSpec("3.9", PYTEST_7_2 + PYTEST_BUILD)),
    },
    "sympy/sympy": _versions(
        "1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12",
        RepoSpec("3.9", SYMPY_1_0, test_cmd=SYMPY_TEST, eval_env=SYMPY_ENV),
    ),
    "pylint-dev/pylint": {
        **_versions("2.9", RepoSpec("3.9", PYLINT_2_9)),
        **_versions("2.10", RepoSpec("3.9", PYLINT_2_10)),
        **_versions("2.14", RepoSpec("3.9", PYLINT_2_14)),
        **_versions("2.15", RepoSpec("3.9", PYLINT_2_15)),
        **_versions("3.0", RepoSpec("3.9", PYLINT_3_0)),
    },
    "mwaskom/seaborn": _versions(
        "0.12",
        RepoSpec(
            "3.9", SEABORN_0_12, test_cmd=PYTEST_NO_HEADER, install=("python -m pip install -e .[dev]",)
        ),
    ),
    "sphinx-doc/sphinx": {
        **_versions(
            "3.0 3.1 3.2 3.3",
            RepoSpec("3.9", SPHINX_3_0, SPHINX_TEST, SPHINX_INSTALL, SPHINX_OLD_PRE, SPHINX_ENV),
        ),
        **_versions(
            "3.4 3.5 4.0",
            RepoSpec("3.9", SPHINX_3_4, SPHINX_TEST, SPHINX_INSTALL, SPHINX_OLD_PRE, SPHINX_ENV),
        ),
        **_versions(
            "4.1 4.2 4.3",
            RepoSpec("3.9", SPHINX_4_1, SPHINX_TEST, SPHINX_INSTALL, SPHINX_OLD_PRE, SPHINX_ENV),
        ),
        **_versions(
            "5.0 5.1", RepoSpec("3.9", SPHINX_5_0, SPHINX_TEST, SPHINX_INSTALL, SPHINX_PRE, SPHINX_ENV)
        ),
        **_versions("5.2", RepoSpec("3.9", SPHINX_5_2, SPHINX_TEST, SPHINX_INSTALL, SPHINX_PRE, SPHINX_ENV)),
        **_versions("7.1", RepoSpec("3.9", SPHINX_7_1, SPHINX_TEST, SPHINX_INSTALL, SPHINX_PRE, SPHINX_ENV)),
        # from 7.2 the inheritance-diagram tests need graphviz's dot (SWE-bench installs it by apt)
        **_versions(
            "7.2",
            RepoSpec(
                "3.9", SPHINX_7_1, SPHINX_TEST, SPHINX_INSTALL, SPHINX_PRE, SPHINX_ENV, system_tools=("dot",)
            ),
        ),
    },
}
# Instances whose own environment differs from their version's shared pins (read from the same
# per-instance environment files), and dependencies a gold patch adds that the sandbox, having no
# network, cannot fetch when the eval script reinstalls the repository.
INSTANCE_PINS: dict[str, str] = {
    "mwaskom__seaborn-3187": "certifi==2024.8.30 charset-normalizer==3.4.0 docutils==0.21.2 flit==3.9.0 flit-core==3.9.0 idna==3.10 requests==2.32.3 tomli-w==1.1.0 urllib3==2.2.3",
    "pylint-dev__pylint-4661": "appdirs==1.4.4",
    "pylint-dev__pylint-4970": "astroid==2.7.3",
    "pylint-dev__pylint-7277": "astroid==2.12.13",
    "pytest-dev__pytest-10356": "exceptiongroup==1.2.2",
    "pytest-dev__pytest-7324": "iniconfig==2.0.0",
    "pytest-dev__pytest-7432": "iniconfig==2.0.0 toml==0.10.2",
    "sphinx-doc__sphinx-10323": "coverage==7.6.4 docutils==0.17.1 pytest-cov==5.0.0",
    "sphinx-doc__sphinx-8035": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 urllib3==2.3.0 virtualenv==20.28.1",
    "sphinx-doc__sphinx-8459": "typed-ast==1.5.5",
    "sphinx-doc__sphinx-8475": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 typed-ast==1.5.5 urllib3==2.3.0 virtualenv==20.28.1",
    "sphinx-doc__sphinx-8621": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 urllib3==2.3.0 virtualenv==20.28.1",
    "sympy__sympy-13372": "flake8-comprehensions==3.16.0",
    "sympy__sympy-13798": "flake8-comprehensions==3.16.0",
    "sympy__sympy-13974": "flake8-comprehensions==3.16.0",
    "sympy__sympy-16450": "flake8-comprehensions==3.16.0",
    "sympy__sympy-19495": "flake8-comprehensions==3.16.0",
}


# Test commands of repositories we know but cannot build here (for classic instances without
# an eval_script, and for users who bring their own environment spec).
TEST_COMMANDS: dict[str, str] = {
    "django/django": DJANGO_TEST,
    "mwaskom/seaborn": PYTEST_NO_HEADER,
    "sympy/sympy": SYMPY_TEST,
    "sphinx-doc/sphinx": SPHINX_TEST,
    "astropy/astropy": PYTEST_RA,
}


def instance_pins(instance_id: str) -> tuple[str, ...]:
    """Pins of one instance that differ from its version's shared set."""
    return tuple(INSTANCE_PINS.get(instance_id, "").split())


def spec_for(repo: str, version: str) -> RepoSpec | None:
    """The spec for ``repo`` at ``version``, or None when this table has none."""
    return SPECS.get(repo, {}).get(version)


def test_command_for(repo: str, version: str) -> str:
    """The test command SWE-bench runs for ``repo`` (pytest's when nothing else is known)."""
    spec = spec_for(repo, version)
    if spec is not None:
        return spec.test_cmd
    return TEST_COMMANDS.get(repo, PYTEST_RA)
