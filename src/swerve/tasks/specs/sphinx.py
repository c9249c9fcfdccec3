"""Specs of sphinx: tox with the current env, and the old releases' dependency caps."""

from __future__ import annotations

from swerve.tasks.specs.base import SPHINX_TEST, RepoSpec
from swerve.tasks.specs.base import versions as _versions

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
    # before 4.2 setup.py names them with no version ('sphinxcontrib-htmlhelp',)
    "sed -i \"s/'sphinxcontrib-htmlhelp'/'sphinxcontrib-htmlhelp<=2.0.4'/\" setup.py",
    "sed -i \"s/'sphinxcontrib-serializinghtml'/'sphinxcontrib-serializinghtml<=1.1.9'/\" setup.py",
    # jsmath 2.0 (2025, after SWE-bench built its images) needs Sphinx 5
    "sed -i \"s/'sphinxcontrib-jsmath'/'sphinxcontrib-jsmath<=1.0.1'/\" setup.py",
)
SPHINX_INSTALL = ("python -m pip install -e .[test]",)
# tox-current-env links .tox/py39/bin/python to the interpreter itself, which outside its venv
# directory no longer sees the venv's packages: name them explicitly.
SPHINX_ENV = (("PYTHONPATH", "{testbed}:{instance_site}:{env_site}"),)

SPECS: dict[str, dict[str, RepoSpec]] = {
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
INSTANCE_PINS: dict[str, str] = {
    "sphinx-doc__sphinx-10323": "coverage==7.6.4 docutils==0.17.1 pytest-cov==5.0.0",
    # Lite only (no environment file): its setup.py asks docutils<0.18, as 10323's does
    "sphinx-doc__sphinx-10325": "docutils==0.17.1",
    "sphinx-doc__sphinx-8035": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 urllib3==2.3.0 virtualenv==20.28.1",
    "sphinx-doc__sphinx-8459": "typed-ast==1.5.5",
    "sphinx-doc__sphinx-8475": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 typed-ast==1.5.5 urllib3==2.3.0 virtualenv==20.28.1",
    "sphinx-doc__sphinx-8621": "certifi==2024.12.14 charset-normalizer==3.4.1 coverage==7.6.10 packaging==24.2 pytest==8.3.4 pytest-cov==6.0.0 six==1.17.0 tomli==2.2.1 urllib3==2.3.0 virtualenv==20.28.1",
}
