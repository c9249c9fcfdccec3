"""Specs of the repositories of SWE-bench's dev split: marshmallow, astroid, pvlib, pydicom.

SWE-bench installs these from its per-repository specs, unpinned. The pins here are what
``bench/swebench_dev_pins.py`` resolves for each version's environment-setup commit: the checkout
with the extras SWE-bench installs, plus its extra packages (marshmallow ``[dev]``; astroid and
pydicom pytest, pydicom numpy; pvlib ``[all]`` with pandas, scipy, matplotlib, pytest and flake8,
less jupyter and ipython, which no test imports), with nothing newer than the commit. pvlib's
cutoff is no earlier than 2021-03-12, the first date its stack (numba 0.53) has wheels for Python
3.9, and its 0.9 takes numba 0.58 or newer (older numbas declare no bound on numpy; paired with
numpy 1.26 they fail to import); nrel-pysam (no earlier release builds here) and astroid's
setuptools-scm (older ones need a pkg_resources that setuptools 70 lacks) are taken as of
2024-07-01, and so is pytest where the commit's own would be older than 6 (marshmallow before 3.9,
pydicom before 2.0): its summary before 5.x has no "PASSED test" lines for SWE-bench's log parser
to read. pydicom 1.4's tests set up with nose-style ``setup`` methods, which pytest 8 no longer
calls, so its pytest is the last 7; pydicom from 2.0 reads its larger test files from the
``pydicom-data`` package when it is installed (else it downloads them from GitHub during the
tests), so 2.0 on carry pydicom-data 1.0.0 (its only release, 2022). astroid 2.13 to 2.15 checkouts
build with setuptools 62.6, which has no PEP 660 hook, so their editable install needs the setup.py
develop fallback that pip 25.1 dropped: their pip is the last before it as of 2024-07-01.

Commands (MIRROR: a snapshot of the repository, D: ../shared/data/swebench/SWE-bench_dev.parquet):

    python bench/swebench_dev_pins.py --mirror MIRROR --repo marshmallow-code/marshmallow \\
        --dataset D --extra dev --with 'pytest>=6' --late-runner 2.18 --late-runner 2.19 \\
        --late-runner 2.20 --late-runner 3.0
    python bench/swebench_dev_pins.py --mirror MIRROR --repo pylint-dev/astroid --dataset D \\
        --with pytest --late setuptools-scm --with '2.13:pip<25.1' --with '2.14:pip<25.1' \\
        --with '2.15:pip<25.1' --late 2.13:pip --late 2.14:pip --late 2.15:pip
    python bench/swebench_dev_pins.py --mirror MIRROR --repo pvlib/pvlib-python --dataset D \\
        --extra all --with pandas --with scipy --with matplotlib --with pytest --with flake8 \\
        --late nrel-pysam --not-before 2021-03-12 --with '0.9:numba>=0.58'
    python bench/swebench_dev_pins.py --mirror MIRROR --repo pydicom/pydicom --dataset D \\
        --with numpy --python-at 1.2=3.6 --python-at 1.3=3.6 --python-at 1.4=3.8 \\
        --python-at 2.0=3.8 --python-at 2.3=3.10 --with 'pytest>=6' --late-runner 1.2 \\
        --late-runner 1.3 --late-runner 1.4 --with '1.4:pytest<8' --with 2.0:pydicom-data \\
        --with 2.1:pydicom-data --with 2.2:pydicom-data --with 2.3:pydicom-data --late pydicom-data

(the Pythons are SWE-bench's per version).
"""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec

# The env layers build old sdists (nodeenv, pyyaml) that need pkg_resources, which newer setuptools
# dropped; and setuptools 71 on added a vendored typeguard plugin that pytest before 6 cannot load.
DEV_BUILD = ("setuptools<71",)
# pvlib's [all] at an instance's commit can name packages its version's pins lack (tables,
# pvfactors), and installed freely they pulled numpy 2 and pandas 2.3 over the pinned stack. The
# compiled core stays as pinned; the rest (its docs extras pin their own sphinx) may differ.
PVLIB_CORE = "numpy|scipy|pandas|numba|llvmlite|h5py|netcdf4|cftime|numexpr"
PVLIB_INSTALL = f"python -m pip install -c <(python -m pip freeze | grep -iE '^({PVLIB_CORE})==') -e .[all]"
# numpy 1.22 on runs float64 sin/cos through AVX-512 kernels (SVML) on CPUs that have them, a few ULP
# off the scalar results: pvlib's aoi(30, 180, 30, 180) comes out 1.2e-6 degrees instead of 0, past
# test_aoi_and_aoi_projection's 1e-6, and test_horizon_tilted gets a nan. The baseline kernels keep
# the exact results the tests were written against (elsewhere numpy warns that it has no such feature).
PVLIB_NUMPY_ENV = (("NPY_DISABLE_CPU_FEATURES", "AVX512_SKX"),)

MARSHMALLOW_2_18 = """
entrypoints==0.3 exceptiongroup==1.2.1 flake8==3.7.4 iniconfig==2.0.0 mccabe==0.6.1 packaging==24.1
pluggy==1.5.0 py==1.11.0 pycodestyle==2.5.0 pyflakes==2.1.0 pytest==8.2.2 python-dateutil==2.8.0
pytz==2018.9 setuptools==70.2.0 simplejson==3.16.0 six==1.12.0 tomli==2.0.1 tox==1.9.2
virtualenv==16.4.1
"""  # version 2.18: 1 instances, Python 3.9, environment commit 1e26d14fac, nothing newer than 2019-02-25

MARSHMALLOW_2_19 = """
entrypoints==0.3 exceptiongroup==1.2.1 flake8==3.7.4 iniconfig==2.0.0 mccabe==0.6.1 packaging==24.1
pluggy==1.5.0 py==1.11.0 pycodestyle==2.5.0 pyflakes==2.1.1 pytest==8.2.2 python-dateutil==2.8.0
pytz==2019.2 setuptools==70.2.0 simplejson==3.16.0 six==1.12.0 tomli==2.0.1 tox==1.9.2
virtualenv==16.7.2
"""  # version 2.19: 1 instances, Python 3.9, environment commit dd72a797ce, nothing newer than 2019-08-01

MARSHMALLOW_2_20 = """
entrypoints==0.3 exceptiongroup==1.2.1 flake8==3.7.4 iniconfig==2.0.0 mccabe==0.6.1 packaging==24.1
pluggy==1.5.0 py==1.11.0 pycodestyle==2.5.0 pyflakes==2.1.1 pytest==8.2.2 python-dateutil==2.8.0
pytz==2019.2 setuptools==70.2.0 simplejson==3.16.0 six==1.12.0 tomli==2.0.1 tox==1.9.2
virtualenv==16.7.5
"""  # version 2.20: 2 instances, Python 3.9, environment commit 7015fc4333, nothing newer than 2019-09-16

MARSHMALLOW_3_0 = """
aspy-yaml==1.3.0 attrs==23.2.0 cfgv==2.0.1 entrypoints==0.3 exceptiongroup==1.2.1 flake8==3.7.8
flake8-bugbear==19.8.0 identify==1.4.7 importlib-metadata==8.0.0 iniconfig==2.0.0 mccabe==0.6.1
nodeenv==1.3.3 packaging==24.1 pluggy==1.5.0 pre-commit==1.18.3 py==1.11.0 pycodestyle==2.5.0
pyflakes==2.1.1 pytest==8.2.2 pytz==2019.2 pyyaml==5.1.2 setuptools==70.2.0 simplejson==3.16.0
six==1.12.0 toml==0.10.0 tomli==2.0.1 tox==1.9.2 virtualenv==16.7.5 zipp==3.19.2
"""  # version 3.0: 2 instances, Python 3.9, environment commit 8b3a32614f, nothing newer than 2019-09-12

MARSHMALLOW_3_9 = """
appdirs==1.4.4 attrs==20.3.0 cfgv==3.2.0 distlib==0.3.1 filelock==3.0.12 flake8==3.8.4
flake8-bugbear==20.11.1 identify==1.5.10 iniconfig==1.1.1 mccabe==0.6.1 mypy==0.790
mypy-extensions==0.4.3 nodeenv==1.5.0 packaging==20.4 pluggy==0.13.1 pre-commit==2.9.1 py==1.9.0
pycodestyle==2.6.0 pyflakes==2.2.0 pyparsing==2.4.7 pytest==6.1.2 pytz==2020.4 pyyaml==5.3.1
setuptools==70.2.0 simplejson==3.17.2 six==1.15.0 toml==0.10.2 tox==3.20.1 typed-ast==1.4.1
typing-extensions==3.7.4.3 virtualenv==20.2.1
"""  # version 3.9: 1 instances, Python 3.9, environment commit fa6c737946, nothing newer than 2020-11-25

MARSHMALLOW_3_12 = """
appdirs==1.4.4 attrs==21.2.0 cfgv==3.2.0 distlib==0.3.1 filelock==3.0.12 flake8==3.9.2
flake8-bugbear==21.4.3 identify==2.2.4 iniconfig==1.1.1 mccabe==0.6.1 mypy==0.812
mypy-extensions==0.4.3 nodeenv==1.6.0 packaging==20.9 pluggy==0.13.1 pre-commit==2.12.1 py==1.10.0
pycodestyle==2.7.0 pyflakes==2.3.1 pyparsing==2.4.7 pytest==6.2.4 pytz==2021.1 pyyaml==5.4.1
setuptools==70.2.0 simplejson==3.17.2 six==1.16.0 toml==0.10.2 tox==3.23.1 typed-ast==1.4.3
typing-extensions==3.10.0.0 virtualenv==20.4.6
"""  # version 3.12: 1 instances, Python 3.9, environment commit 23d0551569, nothing newer than 2021-05-11

MARSHMALLOW_3_19 = """
attrs==23.1.0 cachetools==5.3.1 cfgv==3.3.1 chardet==5.1.0 colorama==0.4.6 distlib==0.3.7
exceptiongroup==1.1.2 filelock==3.12.2 flake8==6.0.0 flake8-bugbear==23.7.10 identify==2.5.25
iniconfig==2.0.0 mccabe==0.7.0 mypy==1.4.1 mypy-extensions==1.0.0 nodeenv==1.8.0 packaging==23.1
platformdirs==3.9.1 pluggy==1.2.0 pre-commit==3.3.3 pycodestyle==2.10.0 pyflakes==3.0.1
pyproject-api==1.5.3 pytest==7.4.0 pytz==2023.3 pyyaml==6.0.1 setuptools==70.2.0 simplejson==3.19.1
tomli==2.0.1 tox==4.6.4 typing-extensions==4.7.1 virtualenv==20.24.0
"""  # version 3.19: 1 instances, Python 3.9, environment commit 819749204b, nothing newer than 2023-07-19

ASTROID_2_5 = """
attrs==21.2.0 iniconfig==1.1.1 lazy-object-proxy==1.6.0 packaging==20.9 pluggy==0.13.1 py==1.10.0
pyparsing==2.4.7 pytest==6.2.4 setuptools==70.2.0 toml==0.10.2 wrapt==1.12.1
"""  # version 2.5: 7 instances, Python 3.9, environment commit d2ae3940a1, nothing newer than 2021-06-16

ASTROID_2_6 = """
attrs==21.2.0 iniconfig==1.1.1 lazy-object-proxy==1.6.0 packaging==21.0 pluggy==0.13.1 py==1.10.0
pyparsing==2.4.7 pytest==6.2.4 setuptools==70.2.0 toml==0.10.2 wrapt==1.12.1
"""  # version 2.6: 1 instances, Python 3.9, environment commit c9c4983481, nothing newer than 2021-07-11

ASTROID_2_7 = """
attrs==21.2.0 iniconfig==1.1.1 lazy-object-proxy==1.6.0 packaging==21.0 pluggy==1.0.0 py==1.10.0
pyparsing==2.4.7 pytest==6.2.5 setuptools==70.2.0 toml==0.10.2 typing-extensions==3.10.0.2
wrapt==1.12.1
"""  # version 2.7: 1 instances, Python 3.9, environment commit 40ea1a3b8e, nothing newer than 2021-09-03

ASTROID_2_9 = """
attrs==21.4.0 iniconfig==1.1.1 lazy-object-proxy==1.7.1 packaging==21.3 pluggy==1.0.0 py==1.11.0
pyparsing==3.0.6 pytest==6.2.5 setuptools==70.2.0 toml==0.10.2 typing-extensions==4.0.1
wrapt==1.13.3
"""  # version 2.9: 2 instances, Python 3.9, environment commit 0d12115586, nothing newer than 2021-12-30

ASTROID_2_10 = """
attrs==21.4.0 iniconfig==1.1.1 lazy-object-proxy==1.7.1 packaging==21.3 pluggy==1.0.0 py==1.11.0
pyparsing==3.0.7 pytest==7.0.1 setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.1.1
wrapt==1.13.3
"""  # version 2.10: 4 instances, Python 3.9, environment commit da745538c7, nothing newer than 2022-03-03

ASTROID_2_12 = """
attrs==22.1.0 iniconfig==1.1.1 lazy-object-proxy==1.7.1 packaging==21.3 pluggy==1.0.0 py==1.11.0
pyparsing==3.0.9 pytest==7.1.3 setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.4.0
wrapt==1.14.1
"""  # version 2.12: 3 instances, Python 3.9, environment commit 52f6d2d772, nothing newer than 2022-10-20

ASTROID_2_13 = """
attrs==22.2.0 exceptiongroup==1.1.0 iniconfig==2.0.0 lazy-object-proxy==1.9.0 packaging==23.0
pip==24.1.1 pluggy==1.0.0 pytest==7.2.0 setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.4.0
wrapt==1.14.1
"""  # version 2.13: 4 instances, Python 3.9, environment commit fe058bff95, nothing newer than 2023-01-10

ASTROID_2_14 = """
attrs==22.2.0 exceptiongroup==1.1.0 iniconfig==2.0.0 lazy-object-proxy==1.9.0 packaging==23.0
pip==24.1.1 pluggy==1.0.0 pytest==7.2.1 setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.4.0
wrapt==1.14.1
"""  # version 2.14: 2 instances, Python 3.9, environment commit 0c9ab0fe56, nothing newer than 2023-01-23

ASTROID_2_15 = """
exceptiongroup==1.1.3 iniconfig==2.0.0 lazy-object-proxy==1.9.0 packaging==23.1 pip==24.1.1
pluggy==1.3.0 pytest==7.4.2 setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.8.0 wrapt==1.15.0
"""  # version 2.15: 4 instances, Python 3.9, environment commit 29b42e5e97, nothing newer than 2023-09-24

ASTROID_3_0 = """
exceptiongroup==1.1.3 iniconfig==2.0.0 packaging==23.1 pluggy==1.3.0 pytest==7.4.2
setuptools==70.2.0 tomli==2.0.1 typing-extensions==4.8.0
"""  # version 3.0: 3 instances, Python 3.9, environment commit 1113d490ec, nothing newer than 2023-09-26

PVLIB_0_5 = """
alabaster==0.7.12 attrs==20.3.0 babel==2.9.0 backcall==0.2.0 beautifulsoup4==4.9.3
certifi==2020.12.5 cftime==1.4.1 chardet==4.0.0 coverage==5.5 cycler==0.10.0 cython==0.29.22
decorator==4.4.2 docutils==0.16 ephem==3.7.7.1 flake8==3.8.4 future==0.18.2 idna==2.10
imagesize==1.2.0 iniconfig==1.1.1 ipython==7.21.0 ipython-genutils==0.2.0 jedi==0.18.0
jinja2==2.11.3 kiwisolver==1.3.1 llvmlite==0.36.0 markupsafe==1.1.1 matplotlib==3.3.4 mccabe==0.6.1
netcdf4==1.5.6 nose==1.3.7 numba==0.53.0 numexpr==2.7.3 numpy==1.20.1 packaging==20.9 pandas==1.2.3
parso==0.8.1 pexpect==4.8.0 pickleshare==0.7.5 pillow==8.1.2 pluggy==0.13.1 prompt-toolkit==3.0.17
protobuf==3.15.6 ptyprocess==0.7.0 pvfactors==0.1.4 py==1.10.0 pycodestyle==2.6.0 pyflakes==2.2.0
pygments==2.8.1 pyparsing==2.4.7 pytest==6.2.2 pytest-cov==2.11.1 pytest-mock==3.5.1
python-dateutil==2.8.1 pytz==2021.1 requests==2.25.1 scipy==1.6.1 setuptools==70.2.0 shapely==1.7.1
siphon==0.9 six==1.15.0 snowballstemmer==2.1.0 soupsieve==2.2 sphinx==3.5.2 sphinx-rtd-theme==0.5.1
sphinxcontrib-applehelp==1.0.2 sphinxcontrib-devhelp==1.0.2 sphinxcontrib-htmlhelp==1.0.3
sphinxcontrib-jsmath==1.0.1 sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.4
tables==3.6.1 toml==0.10.2 traitlets==5.0.5 urllib3==1.26.3 wcwidth==0.2.5
"""  # version 0.5: 1 instances, Python 3.9, environment commit 84818c6d95, nothing newer than 2021-03-12

PVLIB_0_6 = """
alabaster==0.7.12 attrs==20.3.0 babel==2.9.0 backcall==0.2.0 beautifulsoup4==4.9.3
certifi==2020.12.5 cftime==1.4.1 chardet==4.0.0 coverage==5.5 cycler==0.10.0 cython==0.29.22
decorator==4.4.2 docutils==0.15.2 ephem==3.7.7.1 flake8==3.8.4 future==0.18.2 idna==2.10
imagesize==1.2.0 iniconfig==1.1.1 ipython==7.21.0 ipython-genutils==0.2.0 jedi==0.18.0
jinja2==2.11.3 kiwisolver==1.3.1 llvmlite==0.36.0 markupsafe==1.1.1 matplotlib==3.3.4 mccabe==0.6.1
netcdf4==1.5.6 nose==1.3.7 nrel-pysam==5.1.0 numba==0.53.0 numexpr==2.7.3 numpy==1.20.1
packaging==20.9 pandas==1.2.3 parso==0.8.1 pexpect==4.8.0 pickleshare==0.7.5 pillow==8.1.2
pluggy==0.13.1 prompt-toolkit==3.0.17 protobuf==3.15.6 ptyprocess==0.7.0 pvfactors==1.5.0
py==1.10.0 pycodestyle==2.6.0 pyflakes==2.2.0 pygments==2.8.1 pyparsing==2.4.7 pytest==6.2.2
pytest-cov==2.11.1 pytest-mock==3.5.1 pytest-remotedata==0.3.2 pytest-rerunfailures==9.1.1
pytest-timeout==1.4.2 python-dateutil==2.8.1 python-dotenv==0.15.0 pytz==2021.1 requests==2.25.1
scipy==1.6.1 setuptools==70.2.0 shapely==1.7.1 siphon==0.9 six==1.15.0 snowballstemmer==2.1.0
soupsieve==2.2 sphinx==1.8.5 sphinx-gallery==0.8.2 sphinx-rtd-theme==0.5.1
sphinxcontrib-serializinghtml==1.1.4 sphinxcontrib-websupport==1.2.4 tables==3.6.1 toml==0.10.2
traitlets==5.0.5 urllib3==1.26.3 wcwidth==0.2.5
"""  # version 0.6: 4 instances, Python 3.9, environment commit b91d178868, nothing newer than 2021-03-12

PVLIB_0_7 = """
alabaster==0.7.12 attrs==20.3.0 babel==2.9.0 backcall==0.2.0 beautifulsoup4==4.9.3
certifi==2020.12.5 cftime==1.4.1 chardet==4.0.0 coverage==5.5 cycler==0.10.0 cython==0.29.22
decorator==4.4.2 docutils==0.15.2 ephem==3.7.7.1 flake8==3.8.4 future==0.18.2 idna==2.10
imagesize==1.2.0 iniconfig==1.1.1 ipython==7.21.0 ipython-genutils==0.2.0 jedi==0.18.0
jinja2==2.11.3 kiwisolver==1.3.1 llvmlite==0.36.0 markupsafe==1.1.1 matplotlib==3.3.4 mccabe==0.6.1
netcdf4==1.5.6 nose==1.3.7 nrel-pysam==5.1.0 numba==0.53.0 numexpr==2.7.3 numpy==1.20.1
packaging==20.9 pandas==1.2.3 parso==0.8.1 patsy==0.5.1 pexpect==4.8.0 pickleshare==0.7.5
pillow==8.1.2 pluggy==0.13.1 prompt-toolkit==3.0.17 protobuf==3.15.6 ptyprocess==0.7.0
pvfactors==1.5.0 py==1.10.0 pycodestyle==2.6.0 pyflakes==2.2.0 pygments==2.8.1 pyparsing==2.4.7
pytest==6.2.2 pytest-cov==2.11.1 pytest-mock==3.5.1 pytest-remotedata==0.3.2
pytest-rerunfailures==9.1.1 pytest-timeout==1.4.2 python-dateutil==2.8.1 python-dotenv==0.15.0
pytz==2021.1 requests==2.25.1 scipy==1.6.1 setuptools==70.2.0 shapely==1.7.1 siphon==0.9
six==1.15.0 snowballstemmer==2.1.0 soupsieve==2.2 sphinx==3.1.2 sphinx-gallery==0.8.2
sphinx-rtd-theme==0.5.0 sphinx-toggleprompt==0.0.5 sphinxcontrib-applehelp==1.0.2
sphinxcontrib-devhelp==1.0.2 sphinxcontrib-htmlhelp==1.0.3 sphinxcontrib-jsmath==1.0.1
sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.4 statsmodels==0.12.2 tables==3.6.1
toml==0.10.2 traitlets==5.0.5 urllib3==1.26.3 wcwidth==0.2.5
"""  # version 0.7: 10 instances, Python 3.9, environment commit 6e5148f59c, nothing newer than 2021-03-12

PVLIB_0_8 = """
alabaster==0.7.13 asttokens==2.2.1 attrs==22.2.0 babel==2.12.1 backcall==0.2.0
beautifulsoup4==4.11.2 certifi==2022.12.7 cftime==1.6.2 charset-normalizer==3.1.0 contourpy==1.0.7
coverage==7.2.2 cycler==0.11.0 cython==0.29.33 decorator==5.1.1 docutils==0.15.2 ephem==4.1.4
exceptiongroup==1.1.1 executing==1.2.0 flake8==6.0.0 fonttools==4.39.2 future==0.18.3 h5py==3.8.0
idna==3.4 imagesize==1.4.1 importlib-metadata==6.1.0 importlib-resources==5.12.0 iniconfig==2.0.0
ipython==8.11.0 jedi==0.18.2 jinja2==3.1.2 kiwisolver==1.4.4 llvmlite==0.39.1 markupsafe==2.1.2
matplotlib==3.7.1 matplotlib-inline==0.1.6 mccabe==0.7.0 netcdf4==1.6.3 nrel-pysam==5.1.0
numba==0.56.4 numpy==1.23.5 packaging==23.0 pandas==1.5.3 parso==0.8.3 patsy==0.5.3 pexpect==4.8.0
pickleshare==0.7.5 pillow==9.4.0 pluggy==1.0.0 prompt-toolkit==3.0.38 protobuf==4.22.1
ptyprocess==0.7.0 pure-eval==0.2.2 pvfactors==1.5.1 pycodestyle==2.10.0 pydata-sphinx-theme==0.8.1
pyflakes==3.0.1 pygments==2.14.0 pyparsing==3.0.9 pytest==7.2.2 pytest-cov==4.0.0
pytest-mock==3.10.0 pytest-remotedata==0.4.0 pytest-rerunfailures==11.1.2 pytest-timeout==2.1.0
python-dateutil==2.8.2 python-dotenv==1.0.0 pytz==2022.7.1 requests==2.28.2 requests-mock==1.10.0
scipy==1.10.1 setuptools==70.2.0 shapely==2.0.1 siphon==0.9 six==1.16.0 snowballstemmer==2.2.0
soupsieve==2.4 sphinx==4.5.0 sphinx-gallery==0.12.2 sphinx-toggleprompt==0.3.1
sphinxcontrib-applehelp==1.0.4 sphinxcontrib-devhelp==1.0.2 sphinxcontrib-htmlhelp==2.0.1
sphinxcontrib-jsmath==1.0.1 sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.5
stack-data==0.6.2 statsmodels==0.13.5 tomli==2.0.1 traitlets==5.9.0 urllib3==1.26.15 wcwidth==0.2.6
zipp==3.15.0
"""  # version 0.8: 36 instances, Python 3.9, environment commit ef8ad2fee9, nothing newer than 2023-03-18

PVLIB_0_9 = """
alabaster==0.7.13 asttokens==2.4.0 babel==2.13.0 backcall==0.2.0 beautifulsoup4==4.12.2
certifi==2023.7.22 charset-normalizer==3.3.0 contourpy==1.1.1 coverage==7.3.2 cycler==0.12.0
cython==3.0.2 decorator==5.1.1 docutils==0.15.2 ephem==4.1.4 exceptiongroup==1.1.3 executing==1.2.0
flake8==6.1.0 fonttools==4.43.0 future==0.18.3 h5py==3.9.0 idna==3.4 imagesize==1.4.1
importlib-metadata==6.8.0 importlib-resources==6.1.0 iniconfig==2.0.0 ipython==8.16.1 jedi==0.19.1
jinja2==3.1.2 kiwisolver==1.4.5 llvmlite==0.41.0 markupsafe==2.1.3 matplotlib==3.8.0
matplotlib-inline==0.1.6 mccabe==0.7.0 nrel-pysam==5.1.0 numba==0.58.0 numpy==1.25.2
packaging==23.2 pandas==2.1.1 parso==0.8.3 patsy==0.5.3 pexpect==4.8.0 pickleshare==0.7.5
pillow==10.0.1 pluggy==1.3.0 prompt-toolkit==3.0.39 ptyprocess==0.7.0 pure-eval==0.2.2
pycodestyle==2.11.0 pydata-sphinx-theme==0.8.1 pyflakes==3.1.0 pygments==2.16.1 pyparsing==3.1.1
pytest==7.4.2 pytest-cov==4.1.0 pytest-mock==3.11.1 pytest-remotedata==0.4.1
pytest-rerunfailures==12.0 pytest-timeout==2.1.0 python-dateutil==2.8.2 python-dotenv==1.0.0
pytz==2023.3.post1 requests==2.31.0 requests-mock==1.11.0 scipy==1.11.3 setuptools==70.2.0
shapely==1.8.5.post1 six==1.16.0 snowballstemmer==2.2.0 solarfactors==1.5.3 soupsieve==2.5
sphinx==4.5.0 sphinx-gallery==0.14.0 sphinx-toggleprompt==0.4.0 sphinxcontrib-applehelp==1.0.4
sphinxcontrib-devhelp==1.0.2 sphinxcontrib-htmlhelp==2.0.1 sphinxcontrib-jsmath==1.0.1
sphinxcontrib-qthelp==1.0.3 sphinxcontrib-serializinghtml==1.1.5 stack-data==0.6.3
statsmodels==0.14.0 tomli==2.0.1 traitlets==5.11.2 typing-extensions==4.8.0 tzdata==2023.3
urllib3==2.0.6 wcwidth==0.2.8 zipp==3.17.0
"""  # version 0.9: 12 instances, Python 3.9, environment commit 6072e0982c, nothing newer than 2023-10-04

PYDICOM_1_2 = """
attrs==22.2.0 importlib-metadata==4.8.3 iniconfig==1.1.1 numpy==1.16.4 packaging==21.3
pluggy==1.0.0 py==1.11.0 pyparsing==2.4.0 pytest==7.0.1 setuptools==59.6.0 tomli==1.2.3
typing-extensions==4.1.1 zipp==3.6.0
"""  # version 1.2: 8 instances, Python 3.6, environment commit b4b44acbf1, nothing newer than 2019-06-10

PYDICOM_1_3 = """
attrs==22.2.0 importlib-metadata==4.8.3 iniconfig==1.1.1 numpy==1.18.0 packaging==21.3
pluggy==1.0.0 py==1.11.0 pyparsing==2.4.6 pytest==7.0.1 setuptools==59.6.0 tomli==1.2.3
typing-extensions==4.1.1 zipp==3.6.0
"""  # version 1.3: 16 instances, Python 3.6, environment commit 7241f5d9db, nothing newer than 2020-01-01

PYDICOM_1_4 = """
exceptiongroup==1.2.1 iniconfig==2.0.0 numpy==1.18.3 packaging==24.1 pluggy==1.5.0 pytest==7.4.4
setuptools==70.2.0 tomli==2.0.1
"""  # version 1.4: 7 instances, Python 3.8, environment commit 5098c9147f, nothing newer than 2020-05-02

PYDICOM_2_0 = """
attrs==20.2.0 iniconfig==1.1.1 numpy==1.19.4 packaging==20.4 pluggy==0.13.1 py==1.9.0
pydicom-data==1.0.0 pyparsing==2.4.7 pytest==6.1.2 setuptools==70.2.0 six==1.15.0 toml==0.10.2
"""  # version 2.0: 6 instances, Python 3.8, environment commit 9d69811e53, nothing newer than 2020-11-02

PYDICOM_2_1 = """
attrs==21.2.0 iniconfig==1.1.1 numpy==1.21.0 packaging==21.0 pluggy==0.13.1 py==1.10.0
pydicom-data==1.0.0 pyparsing==2.4.7 pytest==6.2.4 setuptools==70.2.0 toml==0.10.2
"""  # version 2.1: 9 instances, Python 3.9, environment commit 506ecea8f3, nothing newer than 2021-07-10

PYDICOM_2_2 = """
attrs==21.4.0 iniconfig==1.1.1 numpy==1.22.2 packaging==21.3 pluggy==1.0.0 py==1.11.0
pydicom-data==1.0.0 pyparsing==3.0.7 pytest==7.0.1 setuptools==70.2.0 tomli==2.0.1
"""  # version 2.2: 6 instances, Python 3.9, environment commit 0fa18d2a21, nothing newer than 2022-02-26

PYDICOM_2_3 = """
attrs==22.1.0 iniconfig==1.1.1 numpy==1.23.4 packaging==21.3 pluggy==1.0.0 py==1.11.0
pydicom-data==1.0.0 pyparsing==3.0.9 pytest==7.1.3 setuptools==70.2.0 tomli==2.0.1
"""  # version 2.3: 4 instances, Python 3.10, environment commit a8be738418, nothing newer than 2022-10-13

SPECS: dict[str, dict[str, RepoSpec]] = {
    "marshmallow-code/marshmallow": {
        "2.18": RepoSpec(
            "3.9", MARSHMALLOW_2_18, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "2.19": RepoSpec(
            "3.9", MARSHMALLOW_2_19, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "2.20": RepoSpec(
            "3.9", MARSHMALLOW_2_20, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "3.0": RepoSpec(
            "3.9", MARSHMALLOW_3_0, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "3.9": RepoSpec(
            "3.9", MARSHMALLOW_3_9, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "3.12": RepoSpec(
            "3.9", MARSHMALLOW_3_12, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
        "3.19": RepoSpec(
            "3.9", MARSHMALLOW_3_19, install=("python -m pip install -e '.[dev]'",), build_pins=DEV_BUILD
        ),
    },
    "pylint-dev/astroid": {
        "2.5": RepoSpec("3.9", ASTROID_2_5, build_pins=DEV_BUILD),
        "2.6": RepoSpec("3.9", ASTROID_2_6, build_pins=DEV_BUILD),
        "2.7": RepoSpec("3.9", ASTROID_2_7, build_pins=DEV_BUILD),
        "2.9": RepoSpec("3.9", ASTROID_2_9, build_pins=DEV_BUILD),
        "2.10": RepoSpec("3.9", ASTROID_2_10, build_pins=DEV_BUILD),
        "2.12": RepoSpec("3.9", ASTROID_2_12, build_pins=DEV_BUILD),
        "2.13": RepoSpec("3.9", ASTROID_2_13, build_pins=DEV_BUILD),
        "2.14": RepoSpec("3.9", ASTROID_2_14, build_pins=DEV_BUILD),
        "2.15": RepoSpec("3.9", ASTROID_2_15, build_pins=DEV_BUILD),
        "3.0": RepoSpec("3.9", ASTROID_3_0, build_pins=DEV_BUILD),
    },
    "pvlib/pvlib-python": {
        "0.5": RepoSpec("3.9", PVLIB_0_5, install=(PVLIB_INSTALL,), build_pins=DEV_BUILD),
        "0.6": RepoSpec("3.9", PVLIB_0_6, install=(PVLIB_INSTALL,), build_pins=DEV_BUILD),
        "0.7": RepoSpec("3.9", PVLIB_0_7, install=(PVLIB_INSTALL,), build_pins=DEV_BUILD),
        "0.8": RepoSpec(
            "3.9",
            PVLIB_0_8,
            install=(PVLIB_INSTALL,),
            build_pins=DEV_BUILD,
            eval_env=PVLIB_NUMPY_ENV,
        ),
        "0.9": RepoSpec(
            "3.9",
            PVLIB_0_9,
            install=(PVLIB_INSTALL,),
            build_pins=DEV_BUILD,
            eval_env=PVLIB_NUMPY_ENV,
        ),
    },
    "pydicom/pydicom": {
        "1.2": RepoSpec("3.6", PYDICOM_1_2, build_pins=DEV_BUILD),
        "1.3": RepoSpec("3.6", PYDICOM_1_3, build_pins=DEV_BUILD),
        "1.4": RepoSpec("3.8", PYDICOM_1_4, build_pins=DEV_BUILD),
        "2.0": RepoSpec("3.8", PYDICOM_2_0, build_pins=DEV_BUILD),
        "2.1": RepoSpec("3.9", PYDICOM_2_1, build_pins=DEV_BUILD),
        "2.2": RepoSpec("3.9", PYDICOM_2_2, build_pins=DEV_BUILD),
        "2.3": RepoSpec("3.10", PYDICOM_2_3, build_pins=DEV_BUILD),
    },
}
INSTANCE_PINS: dict[str, str] = {}
