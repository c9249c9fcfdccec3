"""Specs of sqlfluff (SWE-bench's dev split).

SWE-bench installs it unpinned from ``requirements.txt`` and ``requirements_dev.txt``; the pins
here are what ``bench/swebench_dev_pins.py`` resolves from those files and the checkout at each
version's environment-setup commit, with nothing newer than the commit (types-pkg-resources, every
release of which is now yanked, pinned to its last):

    python bench/swebench_dev_pins.py --mirror MIRROR --repo sqlfluff/sqlfluff \\
        --dataset SWE-bench_dev.parquet --req-file requirements.txt --req-file requirements_dev.txt \\
        --late types-pkg-resources --with types-pkg-resources==0.1.3
"""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec
from swerve.tasks.specs.dev_split import DEV_BUILD

# A binary committed with PR #2923 and removed as a "mystery" file in #4088; no test reads it, and
# snapshots lack its blob.
SQLFLUFF_OPTIONAL = ("bin/act",)

SQLFLUFF_0_4 = """
appdirs==1.4.4 attrs==20.3.0 bench-it==1.0.1 black==21.4b2 cached-property==1.5.2 chardet==4.0.0
click==7.1.2 colorama==0.4.4 configparser==5.0.2 coverage==5.5 diff-cover==5.0.1 doc8==0.8.1
docutils==0.17.1 flake8==3.9.1 flake8-black==0.2.1 flake8-docstrings==1.6.0 hypothesis==6.10.1
inflect==5.3.0 iniconfig==1.1.1 jinja2==2.11.3 jinja2-pluralize==0.3.0 markupsafe==1.1.1
mccabe==0.6.1 mypy==0.812 mypy-extensions==0.4.3 oyaml==1.0 packaging==20.9 pathspec==0.8.1
pbr==5.6.0 pluggy==0.13.1 py==1.10.0 pycodestyle==2.7.0 pydocstyle==6.0.0 pyflakes==2.3.1
pygments==2.9.0 pyparsing==2.4.7 pytest==6.2.3 pytest-cov==2.11.1 pytest-sugar==0.9.4 pyyaml==5.4.1
regex==2021.4.4 restructuredtext-lint==1.3.2 setuptools==70.2.0 six==1.15.0 snowballstemmer==2.1.0
sortedcontainers==2.3.0 stevedore==3.3.0 termcolor==1.1.0 toml==0.10.2 typed-ast==1.4.3
types-pkg-resources==0.1.3 typing-extensions==3.10.0.0
"""  # version 0.4: 4 instances, Python 3.9, environment commit cbdcfb09fe, nothing newer than 2021-05-03

SQLFLUFF_0_6 = """
appdirs==1.4.4 attrs==21.2.0 black==21.11b1 cached-property==1.5.2 certifi==2021.10.8
chardet==4.0.0 charset-normalizer==2.0.8 click==8.0.3 colorama==0.4.4 coverage==6.1.2
diff-cover==6.4.2 doc8==0.10.1 docutils==0.18.1 flake8==4.0.1 flake8-black==0.2.3
flake8-docstrings==1.6.0 hypothesis==6.27.1 idna==3.3 inflect==5.3.0 iniconfig==1.1.1 jinja2==3.0.3
jinja2-pluralize==0.3.0 markupsafe==2.0.1 mccabe==0.6.1 mypy==0.910 mypy-extensions==0.4.3
oyaml==1.0 packaging==21.3 pathspec==0.9.0 pbr==5.8.0 platformdirs==2.4.0 pluggy==1.0.0 py==1.11.0
pycodestyle==2.8.0 pydocstyle==6.1.1 pyflakes==2.4.0 pygments==2.10.0 pyparsing==3.0.6
pytest==6.2.5 pytest-cov==3.0.0 pytest-sugar==0.9.4 pyyaml==6.0 regex==2021.11.10 requests==2.26.0
restructuredtext-lint==1.3.2 setuptools==70.2.0 snowballstemmer==2.2.0 sortedcontainers==2.4.0
stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==1.2.2 tqdm==4.62.3
types-chardet==4.0.1 types-pkg-resources==0.1.3 types-toml==0.10.1 typing-extensions==4.0.0
urllib3==1.26.7
"""  # version 0.6: 5 instances, Python 3.9, environment commit 67023b85c4, nothing newer than 2021-11-25

SQLFLUFF_0_8 = """
appdirs==1.4.4 attrs==21.4.0 black==21.12b0 certifi==2021.10.8 chardet==4.0.0
charset-normalizer==2.0.11 click==8.0.3 colorama==0.4.4 coverage==6.2 diff-cover==6.4.4
doc8==0.10.1 docutils==0.18.1 execnet==1.9.0 flake8==4.0.1 flake8-black==0.2.4
flake8-docstrings==1.6.0 hypothesis==6.36.1 idna==3.3 iniconfig==1.1.1 jinja2==3.0.3
markupsafe==2.0.1 mccabe==0.6.1 mypy==0.931 mypy-extensions==0.4.3 packaging==21.3 pathspec==0.9.0
pbr==5.8.0 platformdirs==2.4.1 pluggy==1.0.0 py==1.11.0 pycodestyle==2.8.0 pydocstyle==6.1.1
pyflakes==2.4.0 pygments==2.11.2 pyparsing==3.0.7 pytest==6.2.5 pytest-cov==3.0.0
pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0 pyyaml==6.0 regex==2022.1.18
requests==2.27.1 restructuredtext-lint==1.3.2 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==1.2.3
tqdm==4.62.3 types-appdirs==1.4.2 types-chardet==4.0.3 types-colorama==0.4.8
types-pkg-resources==0.1.3 types-pyyaml==6.0.4 types-regex==2021.11.10.2 types-toml==0.10.3
typing-extensions==4.0.1 urllib3==1.26.8 yamllint==1.26.3
"""  # version 0.8: 5 instances, Python 3.9, environment commit a5c4eae4e3, nothing newer than 2022-01-31

SQLFLUFF_0_9 = """
appdirs==1.4.4 attrs==21.4.0 black==22.1.0 certifi==2021.10.8 chardet==4.0.0
charset-normalizer==2.0.12 click==8.0.3 colorama==0.4.4 coverage==6.2 diff-cover==6.4.4
doc8==0.10.1 docutils==0.18.1 execnet==1.9.0 flake8==4.0.1 flake8-black==0.2.4
flake8-docstrings==1.6.0 hypothesis==6.36.2 idna==3.3 iniconfig==1.1.1 jinja2==3.0.3
markupsafe==2.0.1 mccabe==0.6.1 mypy==0.931 mypy-extensions==0.4.3 packaging==21.3 pathspec==0.9.0
pbr==5.8.1 platformdirs==2.5.0 pluggy==1.0.0 py==1.11.0 pycodestyle==2.8.0 pydocstyle==6.1.1
pyflakes==2.4.0 pygments==2.11.2 pyparsing==3.0.7 pytest==7.0.1 pytest-cov==3.0.0
pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0 pyyaml==6.0 regex==2022.1.18
requests==2.27.1 restructuredtext-lint==1.3.2 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==2.0.1
tqdm==4.62.3 types-appdirs==1.4.2 types-chardet==4.0.3 types-colorama==0.4.8
types-pkg-resources==0.1.3 types-pyyaml==6.0.4 types-regex==2021.11.10.2 types-toml==0.10.4
typing-extensions==4.1.1 urllib3==1.26.8 yamllint==1.26.3
"""  # version 0.9: 3 instances, Python 3.9, environment commit a4dcf3f08d, nothing newer than 2022-02-16

SQLFLUFF_0_10 = """
appdirs==1.4.4 attrs==21.4.0 black==22.3.0 certifi==2021.10.8 chardet==4.0.0
charset-normalizer==2.0.12 click==8.1.2 colorama==0.4.4 coverage==6.2 diff-cover==6.4.5
doc8==0.11.1 docutils==0.18.1 execnet==1.9.0 flake8==4.0.1 flake8-black==0.3.2
flake8-docstrings==1.6.0 hypothesis==6.41.0 idna==3.3 iniconfig==1.1.1 jinja2==3.1.1
markupsafe==2.1.1 mccabe==0.6.1 mypy==0.942 mypy-extensions==0.4.3 packaging==21.3 pathspec==0.9.0
pbr==5.8.1 platformdirs==2.5.1 pluggy==1.0.0 py==1.11.0 pycodestyle==2.8.0 pydocstyle==6.1.1
pyflakes==2.4.0 pygments==2.11.2 pyparsing==3.0.7 pytest==7.1.1 pytest-cov==3.0.0
pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0 pyyaml==6.0 regex==2022.3.15
requests==2.27.1 restructuredtext-lint==1.4.0 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==2.0.1
tqdm==4.63.1 types-appdirs==1.4.2 types-chardet==4.0.3 types-colorama==0.4.10 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.5 types-regex==2021.11.10.3
types-toml==0.10.4 typing-extensions==4.1.1 urllib3==1.26.9 yamllint==1.26.3
"""  # version 0.10: 4 instances, Python 3.9, environment commit 3d52e8270d, nothing newer than 2022-04-02

SQLFLUFF_0_11 = """
appdirs==1.4.4 attrs==21.4.0 black==22.3.0 certifi==2021.10.8 chardet==4.0.0
charset-normalizer==2.0.12 click==8.1.2 colorama==0.4.4 coverage==6.2 diff-cover==6.4.5
doc8==0.11.1 docutils==0.18.1 execnet==1.9.0 flake8==4.0.1 flake8-black==0.3.2
flake8-docstrings==1.6.0 hypothesis==6.41.0 idna==3.3 iniconfig==1.1.1 jinja2==3.1.1
markupsafe==2.1.1 mccabe==0.6.1 mypy==0.942 mypy-extensions==0.4.3 packaging==21.3 pathspec==0.9.0
pbr==5.8.1 platformdirs==2.5.1 pluggy==1.0.0 py==1.11.0 pycodestyle==2.8.0 pydocstyle==6.1.1
pyflakes==2.4.0 pygments==2.11.2 pyparsing==3.0.7 pytest==7.1.1 pytest-cov==3.0.0
pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0 pyyaml==6.0 regex==2022.3.15
requests==2.27.1 restructuredtext-lint==1.4.0 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==2.0.1
tqdm==4.64.0 types-appdirs==1.4.2 types-chardet==4.0.3 types-colorama==0.4.11 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.5 types-regex==2021.11.10.3
types-toml==0.10.4 typing-extensions==4.1.1 urllib3==1.26.9 yamllint==1.26.3
"""  # version 0.11: 1 instances, Python 3.9, environment commit 2bdeb9354d, nothing newer than 2022-04-08

SQLFLUFF_0_12 = """
appdirs==1.4.4 attrs==21.4.0 black==22.3.0 certifi==2022.5.18.1 chardet==4.0.0
charset-normalizer==2.0.12 click==8.1.3 colorama==0.4.4 coverage==6.2 diff-cover==6.5.0
doc8==0.11.2 docutils==0.18.1 execnet==1.9.0 flake8==4.0.1 flake8-black==0.3.3
flake8-docstrings==1.6.0 hypothesis==6.46.7 idna==3.3 iniconfig==1.1.1 jinja2==3.1.2
markupsafe==2.1.1 mccabe==0.6.1 mypy==0.950 mypy-extensions==0.4.3 packaging==21.3 pathspec==0.9.0
pbr==5.9.0 platformdirs==2.5.2 pluggy==1.0.0 py==1.11.0 pycodestyle==2.8.0 pydocstyle==6.1.1
pyflakes==2.4.0 pygments==2.12.0 pyparsing==3.0.9 pytest==7.1.2 pytest-cov==3.0.0
pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0 pyyaml==6.0 regex==2022.4.24
requests==2.27.1 restructuredtext-lint==1.4.0 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0 toml==0.10.2 tomli==2.0.1
tqdm==4.64.0 types-appdirs==1.4.2 types-chardet==4.0.4 types-colorama==0.4.14 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.7 types-regex==2021.11.10.5
types-toml==0.10.7 typing-extensions==4.2.0 urllib3==1.26.9 yamllint==1.26.3
"""  # version 0.12: 6 instances, Python 3.9, environment commit 8f6fd1d8a8, nothing newer than 2022-05-21

SQLFLUFF_0_13 = """
appdirs==1.4.4 attrs==21.4.0 black==22.3.0 certifi==2022.6.15 chardet==4.0.0
charset-normalizer==2.0.12 click==8.1.3 colorama==0.4.5 coverage==6.4.1 diff-cover==6.5.0
doc8==0.11.2 docutils==0.18.1 exceptiongroup==1.0.0rc8 execnet==1.9.0 fastcore==1.4.5 flake8==4.0.1
flake8-black==0.3.3 flake8-docstrings==1.6.0 ghapi==0.1.21 hypothesis==6.47.3 idna==3.3
iniconfig==1.1.1 jinja2==3.1.2 markupsafe==2.1.1 mccabe==0.6.1 mypy==0.961 mypy-extensions==0.4.3
packaging==21.3 pathspec==0.9.0 pbr==5.9.0 pip==22.1.2 platformdirs==2.5.2 pluggy==1.0.0 py==1.11.0
pycodestyle==2.8.0 pydocstyle==6.1.1 pyflakes==2.4.0 pygments==2.12.0 pyparsing==3.0.9
pytest==7.1.2 pytest-cov==3.0.0 pytest-forked==1.4.0 pytest-sugar==0.9.4 pytest-xdist==2.5.0
pyyaml==6.0 regex==2022.6.2 requests==2.28.0 restructuredtext-lint==1.4.0 setuptools==70.2.0
snowballstemmer==2.2.0 sortedcontainers==2.4.0 stevedore==3.5.0 tblib==1.7.0 termcolor==1.1.0
toml==0.10.2 tomli==2.0.1 tqdm==4.64.0 types-appdirs==1.4.2 types-chardet==4.0.4
types-colorama==0.4.14 types-jinja2==2.11.9 types-markupsafe==1.1.10 types-pkg-resources==0.1.3
types-pyyaml==6.0.8 types-regex==2021.11.10.5 types-toml==0.10.7 typing-extensions==4.2.0
urllib3==1.26.9 yamllint==1.26.3
"""  # version 0.13: 3 instances, Python 3.9, environment commit 6e8ce43a49, nothing newer than 2022-06-17

SQLFLUFF_1_1 = """
appdirs==1.4.4 attrs==21.4.0 black==22.6.0 certifi==2022.6.15 chardet==5.0.0
charset-normalizer==2.1.0 click==8.1.3 colorama==0.4.5 coverage==6.4.2 diff-cover==6.5.1
doc8==0.11.2 docutils==0.19 exceptiongroup==1.0.0rc8 execnet==1.9.0 fastcore==1.5.6 flake8==4.0.1
flake8-black==0.3.3 flake8-docstrings==1.6.0 ghapi==0.1.23 hypothesis==6.52.1 idna==3.3
iniconfig==1.1.1 jinja2==3.1.2 markupsafe==2.1.1 mccabe==0.6.1 mypy==0.961 mypy-extensions==0.4.3
packaging==21.3 pathspec==0.9.0 pbr==5.9.0 pip==22.1.2 platformdirs==2.5.2 pluggy==1.0.0 py==1.11.0
pycodestyle==2.8.0 pydocstyle==6.1.1 pyflakes==2.4.0 pygments==2.12.0 pyparsing==3.0.9
pytest==7.1.2 pytest-cov==3.0.0 pytest-forked==1.4.0 pytest-sugar==0.9.5 pytest-xdist==2.5.0
pyyaml==6.0 regex==2022.7.9 requests==2.28.1 restructuredtext-lint==1.4.0 setuptools==70.2.0
snowballstemmer==2.2.0 sortedcontainers==2.4.0 stevedore==4.0.0 tblib==1.7.0 termcolor==1.1.0
toml==0.10.2 tomli==2.0.1 tqdm==4.64.0 types-appdirs==1.4.3 types-chardet==5.0.2
types-colorama==0.4.15 types-jinja2==2.11.9 types-markupsafe==1.1.10 types-pkg-resources==0.1.3
types-pyyaml==6.0.10 types-regex==2022.7.9.0 types-toml==0.10.8 typing-extensions==4.3.0
urllib3==1.26.10 yamllint==1.27.1
"""  # version 1.1: 1 instances, Python 3.9, environment commit d83ab36bbb, nothing newer than 2022-07-18

SQLFLUFF_1_2 = """
appdirs==1.4.4 attrs==22.1.0 black==22.8.0 certifi==2022.9.24 chardet==5.0.0
charset-normalizer==2.1.1 click==8.1.3 colorama==0.4.5 coverage==6.4.4 diff-cover==7.0.1
doc8==1.0.0 docutils==0.19 exceptiongroup==1.0.0rc9 execnet==1.9.0 fastcore==1.5.27 flake8==5.0.4
flake8-black==0.3.3 flake8-docstrings==1.6.0 ghapi==1.0.3 hypothesis==6.54.6 idna==3.4
iniconfig==1.1.1 jinja2==3.1.2 markupsafe==2.1.1 mccabe==0.7.0 mypy==0.981 mypy-extensions==0.4.3
packaging==21.3 pathspec==0.10.1 pbr==5.10.0 pip==22.2.2 platformdirs==2.5.2 pluggy==1.0.0
py==1.11.0 pycodestyle==2.9.1 pydocstyle==6.1.1 pyflakes==2.5.0 pygments==2.13.0 pyparsing==3.0.9
pytest==7.1.3 pytest-cov==3.0.0 pytest-forked==1.4.0 pytest-sugar==0.9.5 pytest-xdist==2.5.0
pyyaml==6.0 regex==2022.9.13 requests==2.28.1 restructuredtext-lint==1.4.0 setuptools==70.2.0
snowballstemmer==2.2.0 sortedcontainers==2.4.0 stevedore==4.0.0 tblib==1.7.0 termcolor==2.0.1
toml==0.10.2 tomli==2.0.1 tqdm==4.64.1 types-appdirs==1.4.3 types-chardet==5.0.4
types-colorama==0.4.15 types-jinja2==2.11.9 types-markupsafe==1.1.10 types-pkg-resources==0.1.3
types-pyyaml==6.0.11 types-regex==2022.9.13.0 types-toml==0.10.8 typing-extensions==4.3.0
urllib3==1.26.12 yamllint==1.28.0
"""  # version 1.2: 3 instances, Python 3.9, environment commit 388dd01e05, nothing newer than 2022-09-26

SQLFLUFF_1_3 = """
appdirs==1.4.4 attrs==22.1.0 black==22.12.0 certifi==2022.12.7 chardet==5.1.0
charset-normalizer==2.1.1 click==8.1.3 colorama==0.4.6 coverage==6.5.0 diff-cover==7.3.0
doc8==1.0.0 docutils==0.19 exceptiongroup==1.0.4 execnet==1.9.0 fastcore==1.5.27 flake8==6.0.0
flake8-black==0.3.5 flake8-docstrings==1.6.0 ghapi==1.0.3 hypothesis==6.61.0 idna==3.4
iniconfig==1.1.1 jinja2==3.1.2 markupsafe==2.1.1 mccabe==0.7.0 mypy==0.991 mypy-extensions==0.4.3
packaging==22.0 pathspec==0.10.3 pbr==5.11.0 pip==22.3.1 platformdirs==2.6.0 pluggy==1.0.0
pycodestyle==2.10.0 pydocstyle==6.1.1 pyflakes==3.0.1 pygments==2.13.0 pytest==7.2.0
pytest-cov==4.0.0 pytest-xdist==3.1.0 pyyaml==6.0 regex==2022.10.31 requests==2.28.1
restructuredtext-lint==1.4.0 setuptools==70.2.0 snowballstemmer==2.2.0 sortedcontainers==2.4.0
stevedore==4.1.1 tblib==1.7.0 toml==0.10.2 tomli==2.0.1 tqdm==4.64.1 types-appdirs==1.4.3.1
types-chardet==5.0.4.1 types-colorama==0.4.15.4 types-jinja2==2.11.9 types-markupsafe==1.1.10
types-pkg-resources==0.1.3 types-pyyaml==6.0.12.2 types-regex==2022.10.31.3 types-toml==0.10.8.1
typing-extensions==4.4.0 urllib3==1.26.13 yamllint==1.28.0
"""  # version 1.3: 6 instances, Python 3.9, environment commit dc59c2a567, nothing newer than 2022-12-13

SQLFLUFF_1_4 = """
appdirs==1.4.4 attrs==23.1.0 black==23.3.0 certifi==2022.12.7 chardet==5.1.0
charset-normalizer==3.1.0 click==8.1.3 colorama==0.4.6 coverage==7.2.3 diff-cover==7.5.0
doc8==1.1.1 docutils==0.19 exceptiongroup==1.1.1 execnet==1.9.0 fastcore==1.5.29 flake8==6.0.0
flake8-black==0.3.6 flake8-docstrings==1.7.0 ghapi==1.0.3 hypothesis==6.72.1 idna==3.4
iniconfig==2.0.0 jinja2==3.1.2 markupsafe==2.1.2 mccabe==0.7.0 mypy==1.2.0 mypy-extensions==1.0.0
packaging==23.1 pathspec==0.11.1 pbr==5.11.1 pip==23.1 platformdirs==3.2.0 pluggy==1.0.0
pycodestyle==2.10.0 pydocstyle==6.1.1 pyflakes==3.0.1 pygments==2.15.1 pytest==7.3.1
pytest-cov==4.0.0 pytest-xdist==3.2.1 pyyaml==6.0 regex==2023.3.23 requests==2.28.2
restructuredtext-lint==1.4.0 ruff==0.0.262 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==5.0.0 tblib==1.7.0 toml==0.10.2 tomli==2.0.1 tqdm==4.65.0
types-appdirs==1.4.3.5 types-chardet==5.0.4.3 types-colorama==0.4.15.11 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.12.9 types-regex==2023.3.23.1
types-toml==0.10.8.6 typing-extensions==4.5.0 urllib3==1.26.15 yamllint==1.31.0
"""  # version 1.4: 4 instances, Python 3.9, environment commit d19de0ecd1, nothing newer than 2023-04-21

SQLFLUFF_2_0 = """
appdirs==1.4.4 attrs==23.1.0 black==23.7.0 certifi==2023.7.22 chardet==5.1.0
charset-normalizer==3.2.0 click==8.1.6 colorama==0.4.6 coverage==7.2.7 diff-cover==7.7.0
doc8==1.1.1 docutils==0.20.1 exceptiongroup==1.1.2 execnet==2.0.2 fastcore==1.5.29 flake8==6.0.0
flake8-black==0.3.6 flake8-docstrings==1.7.0 ghapi==1.0.4 hypothesis==6.82.0 idna==3.4
iniconfig==2.0.0 jinja2==3.1.2 markupsafe==2.1.3 mccabe==0.7.0 mypy==1.4.1 mypy-extensions==1.0.0
packaging==23.1 pathspec==0.11.1 pbr==5.11.1 pip==23.2.1 platformdirs==3.9.1 pluggy==1.2.0
pycodestyle==2.10.0 pydocstyle==6.1.1 pyflakes==3.0.1 pygments==2.15.1 pytest==7.4.0
pytest-cov==4.1.0 pytest-xdist==3.3.1 pyyaml==6.0.1 regex==2023.6.3 requests==2.31.0
restructuredtext-lint==1.4.0 ruff==0.0.280 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==5.1.0 tblib==2.0.0 toml==0.10.2 tomli==2.0.1 tqdm==4.65.0
types-appdirs==1.4.3.5 types-chardet==5.0.4.6 types-colorama==0.4.15.12 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.12.11 types-regex==2023.6.3.1
types-toml==0.10.8.7 typing-extensions==4.7.1 urllib3==2.0.4 yamllint==1.32.0
"""  # version 2.0: 2 instances, Python 3.9, environment commit 3629c3e702, nothing newer than 2023-07-26

SQLFLUFF_2_1 = """
appdirs==1.4.4 attrs==23.1.0 black==23.7.0 certifi==2023.7.22 chardet==5.2.0
charset-normalizer==3.2.0 click==8.1.6 colorama==0.4.6 coverage==7.2.7 diff-cover==7.7.0
doc8==1.1.1 docutils==0.20.1 exceptiongroup==1.1.2 execnet==2.0.2 fastcore==1.5.29 flake8==6.1.0
flake8-black==0.3.6 flake8-docstrings==1.7.0 ghapi==1.0.4 hypothesis==6.82.3 idna==3.4
iniconfig==2.0.0 jinja2==3.1.2 markupsafe==2.1.3 mccabe==0.7.0 mypy==1.4.1 mypy-extensions==1.0.0
packaging==23.1 pathspec==0.11.2 pbr==5.11.1 pip==23.2.1 platformdirs==3.10.0 pluggy==1.2.0
pycodestyle==2.11.0 pydocstyle==6.1.1 pyflakes==3.1.0 pygments==2.16.1 pytest==7.4.0
pytest-cov==4.1.0 pytest-xdist==3.3.1 pyyaml==6.0.1 regex==2023.8.8 requests==2.31.0
restructuredtext-lint==1.4.0 ruff==0.0.284 setuptools==70.2.0 snowballstemmer==2.2.0
sortedcontainers==2.4.0 stevedore==5.1.0 tblib==2.0.0 toml==0.10.2 tomli==2.0.1 tqdm==4.66.0
types-appdirs==1.4.3.5 types-chardet==5.0.4.6 types-colorama==0.4.15.12 types-jinja2==2.11.9
types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.12.11 types-regex==2023.6.3.1
types-toml==0.10.8.7 typing-extensions==4.7.1 urllib3==2.0.4 yamllint==1.32.0
"""  # version 2.1: 1 instances, Python 3.9, environment commit 7b7fd603a1, nothing newer than 2023-08-09

SQLFLUFF_2_2 = """
appdirs==1.4.4 attrs==23.1.0 black==23.9.1 certifi==2023.7.22 chardet==5.2.0
charset-normalizer==3.2.0 click==8.1.7 colorama==0.4.6 coverage==7.3.1 diff-cover==7.7.0
doc8==1.1.1 docutils==0.20.1 exceptiongroup==1.1.3 execnet==2.0.2 fastcore==1.5.29 flake8==6.1.0
flake8-black==0.3.6 flake8-docstrings==1.7.0 ghapi==1.0.4 grimp==3.0 hypothesis==6.85.1 idna==3.4
import-linter==1.11.1 iniconfig==2.0.0 isort==5.12.0 jinja2==3.1.2 markupsafe==2.1.3 mccabe==0.7.0
mypy==1.5.1 mypy-extensions==1.0.0 packaging==23.1 pathspec==0.11.2 pbr==5.11.1 pip==23.2.1
platformdirs==3.10.0 pluggy==1.3.0 pycodestyle==2.11.0 pydocstyle==6.3.0 pyflakes==3.1.0
pygments==2.16.1 pytest==7.4.2 pytest-cov==4.1.0 pytest-xdist==3.3.1 pyyaml==6.0.1 regex==2023.8.8
requests==2.31.0 restructuredtext-lint==1.4.0 ruff==0.0.290 setuptools==70.2.0
snowballstemmer==2.2.0 sortedcontainers==2.4.0 stevedore==5.1.0 tblib==2.0.0 toml==0.10.2
tomli==2.0.1 tqdm==4.66.1 types-appdirs==1.4.3.5 types-chardet==5.0.4.6 types-colorama==0.4.15.12
types-jinja2==2.11.9 types-markupsafe==1.1.10 types-pkg-resources==0.1.3 types-pyyaml==6.0.12.11
types-regex==2023.8.8.0 types-toml==0.10.8.7 typing-extensions==4.7.1 urllib3==2.0.4
yamllint==1.32.0
"""  # version 2.2: 2 instances, Python 3.9, environment commit 3625934f16, nothing newer than 2023-09-16

SPECS: dict[str, dict[str, RepoSpec]] = {
    "sqlfluff/sqlfluff": {
        "0.4": RepoSpec("3.9", SQLFLUFF_0_4, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.6": RepoSpec("3.9", SQLFLUFF_0_6, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.8": RepoSpec("3.9", SQLFLUFF_0_8, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.9": RepoSpec("3.9", SQLFLUFF_0_9, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.10": RepoSpec("3.9", SQLFLUFF_0_10, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.11": RepoSpec("3.9", SQLFLUFF_0_11, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.12": RepoSpec("3.9", SQLFLUFF_0_12, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "0.13": RepoSpec("3.9", SQLFLUFF_0_13, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "1.1": RepoSpec("3.9", SQLFLUFF_1_1, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "1.2": RepoSpec("3.9", SQLFLUFF_1_2, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "1.3": RepoSpec("3.9", SQLFLUFF_1_3, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "1.4": RepoSpec("3.9", SQLFLUFF_1_4, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "2.0": RepoSpec("3.9", SQLFLUFF_2_0, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "2.1": RepoSpec("3.9", SQLFLUFF_2_1, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
        "2.2": RepoSpec("3.9", SQLFLUFF_2_2, build_pins=DEV_BUILD, optional_files=SQLFLUFF_OPTIONAL),
    },
}
INSTANCE_PINS: dict[str, str] = {}
