"""Specs of the developer-tool repositories: requests, flask, pytest, pylint."""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec
from swerve.tasks.specs.base import versions as _versions

REQUESTS_1_1 = """
exceptiongroup==1.2.0 iniconfig==1.1.1 packaging==24.1 pluggy==1.0.0 pytest==7.4.4 setuptools==75.1.0
tomli==2.0.1
"""  # versions 0.14, 1.1, 2.0, 2.3, 2.4, 2.7, 2.9, 2.10 (SWE-bench: "packages: pytest")
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
FLASK_2_0 = """
alabaster==0.7.12 asgiref==3.4.1 attrs==21.2.0 babel==2.9.1 backports-entry-points-selectable==1.1.0
blinker==1.4 certifi==2021.5.30 cffi==1.14.6 cfgv==3.3.1 charset-normalizer==2.0.6 click==8.0.1
cryptography==35.0.0 distlib==0.3.3 docutils==0.16 filelock==3.2.0 greenlet==1.1.2 identify==2.2.15
idna==3.2 imagesize==1.2.0 iniconfig==1.1.1 itsdangerous==2.1.2 jinja2==3.0.1 markupsafe==2.1.3
mypy==0.910 mypy-extensions==0.4.3 nodeenv==1.6.0 packaging==21.0 pallets-sphinx-themes==2.0.1
pep517==0.11.0 pip-tools==6.3.0 platformdirs==2.4.0 pluggy==1.0.0 pre-commit==2.15.0 py==1.10.0
pycparser==2.20 pygments==2.10.0 pyparsing==2.4.7 pytest==6.2.5 python-dotenv==0.19.0 pytz==2021.1
pyyaml==5.4.1 requests==2.26.0 setuptools==70.0.0 six==1.16.0 snowballstemmer==2.1.0 sphinx==4.2.0
sphinx-issues==1.2.0 sphinx-tabs==3.2.0 sphinxcontrib-applehelp==1.0.2 sphinxcontrib-devhelp==1.0.2
sphinxcontrib-htmlhelp==2.0.0 sphinxcontrib-jsmath==1.0.1 sphinxcontrib-log-cabinet==1.0.1
sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.5 toml==0.10.2 tomli==1.2.1 tox==3.24.4
types-contextvars==0.1.4 types-dataclasses==0.1.7 types-setuptools==57.4.0 typing-extensions==3.10.0.2
urllib3==1.26.7 virtualenv==20.8.1 werkzeug==2.3.7 wheel==0.37.0
"""  # versions 2.0: requirements/dev.txt of the environment commit, with SWE-bench's own pins over it
PYTEST_4_4 = """
atomicwrites==1.4.1 attrs==23.1.0 more-itertools==10.1.0 pluggy==0.13.1 py==1.11.0 setuptools==68.0.0
six==1.16.0
"""  # versions 4.4
PYTEST_7_0 = """
attrs==23.1.0 iniconfig==2.0.0 packaging==23.1 pluggy==0.13.1 py==1.11.0 setuptools==75.1.0 tomli==2.0.1
"""  # versions 7.0 (tomli: setup.cfg asks for tomli>=1.0.0; the version 7.1/7.2 pin)
PYTEST_8_0 = """
exceptiongroup==1.1.3 iniconfig==2.0.0 packaging==23.1 pluggy==1.3.0 setuptools==75.1.0 tomli==2.0.1
"""  # versions 8.0
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
PYLINT_2_13 = """
astroid==2.11.3 attrs==24.2.0 black==22.3.0 certifi==2024.8.30 cfgv==3.4.0 charset-normalizer==3.4.0
cli-ui==0.17.2 click==8.1.7 colorama==0.4.6 contributors-txt==1.0.0 coverage==6.5.0 coveralls==3.3.1
dill==0.3.9 distlib==0.3.9 docopt==0.6.2 exceptiongroup==1.2.2 execnet==2.1.1 filelock==3.16.1
flake8==4.0.1 flake8-typing-imports==1.12.0 gprof2dot==2024.6.6 identify==2.6.1 idna==3.10
iniconfig==2.0.0 isort==5.10.1 lazy-object-proxy==1.10.0 mccabe==0.6.1 mypy==0.941
mypy-extensions==1.0.0 nodeenv==1.9.1 packaging==24.1 pathspec==0.12.1 platformdirs==4.3.6 pluggy==1.5.0
pre-commit==2.21.0 py==1.11.0 py-cpuinfo==9.0.0 pycodestyle==2.8.0 pyflakes==2.4.0 pytest==7.4.4
pytest-benchmark==3.4.1 pytest-cov==3.0.0 pytest-forked==1.6.0 pytest-profiling==1.7.0
pytest-timeout==2.3.1 pytest-xdist==2.5.0 pyyaml==6.0.2 requests==2.32.3 schema==0.7.7
setuptools==75.1.0 six==1.16.0 tabulate==0.8.10 tbump==6.6.1 tomli==2.0.2 tomlkit==0.13.2
types-pkg-resources==0.1.3 typing-extensions==4.12.2 unidecode==1.3.8 urllib3==2.2.3 virtualenv==20.27.0
wrapt==1.16.0
"""  # versions 2.13: requirements_test*.txt and setup.cfg of the environment commit, resolved by uv
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
urllib3==2.2.3 virtualenv==20.27.0 wrapt==1.16.0 pip==24.2
"""  # versions 2.15; pip as in SWE-bench's environments (their pip sections do not name it): the
# later checkouts ask for setuptools~=62.6, which has no PEP 660 hook, and pip 25.1 dropped the
# setup.py develop fallback that their editable install needs
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
# Build requirements that the offline install inside a sandbox needs already present.
PYTEST_BUILD = " setuptools-scm==8.1.0 wheel==0.44.0"

SPECS: dict[str, dict[str, RepoSpec]] = {
    "psf/requests": {
        # up to 2.7 the tests read HTTPBIN_URL: a loopback httpbin serves them inside the sandbox
        **_versions(
            "0.14 1.1 2.0 2.3 2.4 2.7",
            RepoSpec("3.9", REQUESTS_1_1, install=("python -m pip install .",), services=("httpbin",)),
        ),
        **_versions("2.9 2.10", RepoSpec("3.9", REQUESTS_1_1, install=("python -m pip install .",))),
        **_versions("2.26 2.27", RepoSpec("3.9", REQUESTS_2_26, install=("python -m pip install .",))),
    },
    "pallets/flask": {
        **_versions("2.0", RepoSpec("3.9", FLASK_2_0)),
        **_versions("2.3", RepoSpec("3.11", FLASK_2_3)),
    },
    "pytest-dev/pytest": {
        **_versions("4.4", RepoSpec("3.9", PYTEST_4_4 + PYTEST_BUILD)),
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
        **_versions("7.0", RepoSpec("3.9", PYTEST_7_0 + PYTEST_BUILD)),
        **_versions("7.2", RepoSpec("3.9", PYTEST_7_2 + PYTEST_BUILD)),
        **_versions("8.0", RepoSpec("3.9", PYTEST_8_0 + PYTEST_BUILD)),
    },
    "pylint-dev/pylint": {
        **_versions("2.9", RepoSpec("3.9", PYLINT_2_9)),
        **_versions("2.10", RepoSpec("3.9", PYLINT_2_10)),
        **_versions("2.13", RepoSpec("3.9", PYLINT_2_13)),
        **_versions("2.14", RepoSpec("3.9", PYLINT_2_14)),
        **_versions("2.15", RepoSpec("3.9", PYLINT_2_15)),
        **_versions("3.0", RepoSpec("3.9", PYLINT_3_0)),
    },
}
INSTANCE_PINS: dict[str, str] = {
    "pylint-dev__pylint-4661": "appdirs==1.4.4",
    # its setup.cfg asks for astroid>=2.9.2,<=2.10.0-dev0 (the environment commit pins 2.11.3)
    "pylint-dev__pylint-5859": "astroid==2.9.3 wrapt==1.13.3",
    "pylint-dev__pylint-4970": "astroid==2.7.3",
    # its pyproject asks for astroid>=2.12.2,<=2.14.0-dev0; the environment commit's tests pin 2.12.13
    "pylint-dev__pylint-7114": "astroid==2.12.13",
    "pylint-dev__pylint-7277": "astroid==2.12.13",
    "pytest-dev__pytest-10356": "exceptiongroup==1.2.2",
    "pytest-dev__pytest-7324": "iniconfig==2.0.0",
    "pytest-dev__pytest-7432": "iniconfig==2.0.0 toml==0.10.2",
}
