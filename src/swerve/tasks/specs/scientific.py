"""Specs of the scientific repositories: sympy, seaborn."""

from __future__ import annotations

from swerve.tasks.specs.base import PYTEST_NO_HEADER, SYMPY_TEST, RepoSpec
from swerve.tasks.specs.base import versions as _versions

SYMPY_1_0 = """
flake8==7.1.1 flake8-comprehensions==3.15.0 mccabe==0.7.0 mpmath==1.3.0 pycodestyle==2.12.1
pyflakes==3.2.0 setuptools==75.1.0
"""  # versions 1.0, 1.1, 1.10, 1.11, 1.12, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9
SYMPY_1_13 = """
attrs==24.2.0 exceptiongroup==1.2.2 execnet==2.1.1 flake8==7.1.1 flake8-comprehensions==3.15.0
hypothesis==6.115.5 iniconfig==2.0.0 mccabe==0.7.0 mpmath==1.3.0 packaging==24.1 pluggy==1.5.0
pycodestyle==2.12.1 pyflakes==3.2.0 pytest==8.3.3 pytest-doctestplus==1.2.1 pytest-split==0.10.0
pytest-timeout==2.3.1 pytest-xdist==3.6.1 setuptools==75.1.0 sortedcontainers==2.4.0 tomli==2.0.2
"""  # versions 1.13: requirements-dev.txt of the environment commit, resolved by uv
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
# The dev extra of 0.13 adds flit; it and what it pulls in.
SEABORN_FLIT = """
certifi==2024.8.30 charset-normalizer==3.4.0 docutils==0.21.2 flit==3.9.0 flit-core==3.9.0 idna==3.10
requests==2.32.3 tomli-w==1.1.0 urllib3==2.2.3
"""
SYMPY_ENV = (("PYTHONWARNINGS", "ignore::UserWarning,ignore::SyntaxWarning"),)

SPECS: dict[str, dict[str, RepoSpec]] = {
    "sympy/sympy": {
        **_versions(
            "1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12",
            RepoSpec("3.9", SYMPY_1_0, test_cmd=SYMPY_TEST, eval_env=SYMPY_ENV),
        ),
        **_versions("1.13", RepoSpec("3.9", SYMPY_1_13, test_cmd=SYMPY_TEST, eval_env=SYMPY_ENV)),
    },
    "mwaskom/seaborn": {
        **_versions(
            "0.12",
            RepoSpec(
                "3.9", SEABORN_0_12, test_cmd=PYTEST_NO_HEADER, install=("python -m pip install -e .[dev]",)
            ),
        ),
        **_versions(
            "0.13",
            RepoSpec(
                "3.9",
                SEABORN_0_12 + SEABORN_FLIT,
                test_cmd=PYTEST_NO_HEADER,
                install=("python -m pip install -e .[dev]",),
            ),
        ),
    },
}
INSTANCE_PINS: dict[str, str] = {
    "mwaskom__seaborn-3187": "certifi==2024.8.30 charset-normalizer==3.4.0 docutils==0.21.2 flit==3.9.0 flit-core==3.9.0 idna==3.10 requests==2.32.3 tomli-w==1.1.0 urllib3==2.2.3",
    "sympy__sympy-13372": "flake8-comprehensions==3.16.0",
    "sympy__sympy-13798": "flake8-comprehensions==3.16.0",
    "sympy__sympy-13974": "flake8-comprehensions==3.16.0",
    "sympy__sympy-16450": "flake8-comprehensions==3.16.0",
    "sympy__sympy-19495": "flake8-comprehensions==3.16.0",
}
