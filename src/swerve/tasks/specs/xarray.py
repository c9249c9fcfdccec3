"""Specs of xarray: Python 3.10 and the optional I/O and array backends its tests use.

SWE-bench builds xarray from a conda environment.yml plus pip pins (numpy 1.23.0, pandas 1.5.3,
dask 2022.8.1, pytest 7.4.0, ...). The sets below are its per-instance environment files mapped to
pip by bench/swebench_env_pins.py (most common set per version), resolved with ``uv pip compile``
for CPython 3.10 on linux; every pip-section pin is kept as SWE-bench has it.

Left out (conda-only; uv finds none of them on PyPI): cdms2, cdtime, cdat_info, libcf, distarray
(CDAT's; PyPI's distarray is another project), esmpy (needs the ESMF C library). xarray's tests
importorskip cdms2, so test_dataarray.py's test_to_and_from_cdms2_classic and _ugrid skip here;
they are in the PASS_TO_PASS lists of pydata__xarray-3305, -4695 and -6992, which therefore cannot
resolve here: environment-unavailable, cause "cdms2 is conda-only".
Dropped: dask-expr (every release needs pandas>=2; dask 2022.8.1 never imports it).
Relaxed to the newest version that fits the pip section (SWE-bench's conda version needs what the
pip section forbids, e.g. numpy>=1.24 or pytest>=8.3.3; conda installed them side by side without a
consistency check): zarr, rasterio, scitools-iris, distributed, pytest-env, cf-units with
antlr4-python3-runtime (cf-units 3.2.0 pins antlr 4.7.2, conda had 4.11.1).

Per instance: only pydata__xarray-6599's file differs from its version's set (newer releases of the
same packages, matplotlib 3.10.0, iris 3.11.0, ...); its gold patch resolves on the shared 2022.03
set, so INSTANCE_PINS stays empty. Lite's 0.12 instances without a file of their own use 0.12's.
"""

from __future__ import annotations

from swerve.tasks.specs.base import RepoSpec
from swerve.tasks.specs.base import versions as _versions

V_0_12 = """
affine==2.4.0 aiobotocore==2.15.1 aiohappyeyeballs==2.4.3 aiohttp==3.10.9 aioitertools==0.12.0
aiosignal==1.3.1 antlr4-python3-runtime==4.13.2 appdirs==1.4.4 asciitree==0.3.3
async-timeout==4.0.3 attrs==24.2.0 beautifulsoup4==4.12.3 bokeh==3.5.2 boto3==1.35.23
botocore==1.35.23 bottleneck==1.4.0 brotli==1.1.0 cached-property==1.5.2 cartopy==0.24.0
certifi==2024.8.30 cf-units==3.3.0 cffi==1.17.1 cfgrib==0.9.14.1 cfgv==3.3.1 cftime==1.6.4
charset-normalizer==3.4.0 click==8.1.7 click-plugins==1.1.1 cligj==0.7.2 cloudpickle==3.0.0
colorama==0.4.6 contourpy==1.3.0 coverage==7.6.1 cycler==0.12.1 cytoolz==1.0.0 dask==2022.8.1
distlib==0.3.8 distributed==2021.4.1 docopt-ng==0.9.0 eccodes==2.37.0 exceptiongroup==1.2.2
execnet==2.1.1 fasteners==0.17.3 fastjsonschema==2.20.0 filelock==3.16.1 findlibs==0.0.5
flexcache==0.3 flexparser==0.3.1 fonttools==4.54.1 frozenlist==1.4.1 fsspec==2024.9.0 future==1.0.0
h2==4.1.0 h5netcdf==1.4.0 h5py==3.11.0 hpack==4.0.0 hyperframe==6.0.1 hypothesis==6.114.0
identify==2.6.1 idna==3.10 importlib-metadata==8.5.0 importlib-resources==6.4.5 iniconfig==2.0.0
jinja2==3.1.4 jmespath==1.0.1 jsonschema==4.23.0 jsonschema-specifications==2024.10.1
jupyter-core==5.7.2 kiwisolver==1.4.7 lazy-object-proxy==1.10.0 llvmlite==0.43.0 locket==1.0.0
lxml==5.3.0 lz4==4.3.3 markupsafe==3.0.1 matplotlib==3.9.2 msgpack==1.1.0 multidict==6.1.0
munkres==1.1.4 nbformat==5.10.4 nc-time-axis==1.4.1 netcdf4==1.7.1 nodeenv==1.9.1 numba==0.60.0
numbagg==0.8.2 numcodecs==0.13.0 numexpr==2.10.0 numpy==1.23.0 packaging==23.1 pandas==1.5.3
partd==1.4.2 patsy==0.5.6 pillow==10.4.0 pint==0.24.3 pkgutil-resolve-name==1.3.10
platformdirs==4.3.6 pluggy==1.5.0 pooch==1.8.2 pre-commit==4.0.1 pseudonetcdf==3.4.0 psutil==6.0.0
pyarrow==17.0.0 pyarrow-hotfix==0.6 pycparser==2.22 pydap==3.5 pyparsing==3.1.4 pyproj==3.7.0
pyshp==2.3.1 pysocks==1.7.1 pytest==7.4.0 pytest-cov==5.0.0 pytest-env==1.0.1 pytest-xdist==3.6.1
python-dateutil==2.8.2 pytz==2023.3 pyyaml==6.0.2 rasterio==1.3.11 referencing==0.35.1
requests==2.32.3 rpds-py==0.20.0 s3transfer==0.10.3 scipy==1.11.1 scitools-iris==3.4.1
seaborn==0.13.2 setuptools==68.0.0 shapely==2.0.6 six==1.16.0 snuggs==1.4.7 sortedcontainers==2.4.0
soupsieve==2.5 sparse==0.15.4 statsmodels==0.14.4 tblib==3.0.0 toml==0.10.2 tomli==2.0.2
toolz==1.0.0 tornado==6.4.1 traitlets==5.14.3 typing-extensions==4.12.2 tzdata==2024.2
ukkonen==1.0.1 unicodedata2==15.1.0 urllib3==2.2.3 virtualenv==20.26.6 webob==1.8.8 wheel==0.44.0
wrapt==1.16.0 xxhash==3.5.0 xyzservices==2024.9.0 yarl==1.13.1 zarr==2.18.2 zict==3.0.0
zipp==3.20.2 zstandard==0.23.0
"""
V_2022_03 = """
affine==2.4.0 aiobotocore==2.15.1 aiohappyeyeballs==2.4.3 aiohttp==3.10.10 aioitertools==0.12.0
aiosignal==1.3.1 antlr4-python3-runtime==4.13.2 appdirs==1.4.4 asciitree==0.3.3
async-timeout==4.0.3 attrs==24.2.0 boto3==1.35.23 botocore==1.35.23 bottleneck==1.4.2 brotli==1.1.0
cached-property==1.5.2 cartopy==0.24.0 certifi==2024.8.30 cf-units==3.3.0 cffi==1.17.1
cfgrib==0.9.14.1 cfgv==3.3.1 cftime==1.6.4 charset-normalizer==3.4.0 click==8.1.7
click-plugins==1.1.1 cligj==0.7.2 cloudpickle==3.1.0 colorama==0.4.6 contourpy==1.3.0
coverage==7.6.4 cycler==0.12.1 cytoolz==1.0.0 dask==2022.8.1 distlib==0.3.9 distributed==2021.4.1
eccodes==2.37.0 exceptiongroup==1.2.2 execnet==2.1.1 fasteners==0.17.3 fastjsonschema==2.20.0
filelock==3.16.1 findlibs==0.0.5 flexcache==0.3 flexparser==0.3.1 flox==0.9.12 fonttools==4.54.1
frozenlist==1.5.0 fsspec==2024.10.0 future==1.0.0 h2==4.1.0 h5netcdf==1.4.0 h5py==3.12.1
hpack==4.0.0 hyperframe==6.0.1 hypothesis==6.115.5 identify==2.6.1 idna==3.10
importlib-metadata==8.5.0 importlib-resources==6.4.5 iniconfig==2.0.0 jinja2==3.1.4 jmespath==1.0.1
jsonschema==4.23.0 jsonschema-specifications==2024.10.1 jupyter-core==5.7.2 kiwisolver==1.4.7
lazy-object-proxy==1.10.0 llvmlite==0.43.0 locket==1.0.0 lxml==5.3.0 markupsafe==3.0.2
matplotlib==3.9.2 msgpack==1.1.0 multidict==6.1.0 munkres==1.1.4 nbformat==5.10.4
nc-time-axis==1.4.1 netcdf4==1.7.1 nodeenv==1.9.1 numba==0.60.0 numbagg==0.8.2 numcodecs==0.13.1
numexpr==2.10.1 numpy==1.23.0 numpy-groupies==0.11.2 packaging==23.1 pandas==1.5.3 partd==1.4.2
patsy==0.5.6 pillow==11.0.0 pint==0.24.3 pkgutil-resolve-name==1.3.10 platformdirs==4.3.6
pluggy==1.5.0 pooch==1.8.2 pre-commit==4.0.1 propcache==0.2.0 pseudonetcdf==3.4.0 psutil==6.0.0
pycparser==2.22 pyparsing==3.2.0 pyproj==3.7.0 pyshp==2.3.1 pysocks==1.7.1 pytest==7.4.0
pytest-cov==5.0.0 pytest-env==1.0.1 pytest-xdist==3.6.1 python-dateutil==2.8.2 pytz==2023.3
pyyaml==6.0.2 rasterio==1.3.11 referencing==0.35.1 requests==2.32.3 rpds-py==0.20.0
s3transfer==0.10.3 scipy==1.11.1 scitools-iris==3.4.1 seaborn==0.13.2 setuptools==68.0.0
shapely==2.0.6 six==1.16.0 snuggs==1.4.7 sortedcontainers==2.4.0 sparse==0.15.4 statsmodels==0.14.4
tblib==3.0.0 toml==0.10.2 tomli==2.0.2 toolz==1.0.0 tornado==6.4.1 traitlets==5.14.3
typing-extensions==4.12.2 tzdata==2024.2 ukkonen==1.0.1 unicodedata2==15.1.0 urllib3==2.2.3
virtualenv==20.27.0 wheel==0.44.0 wrapt==1.16.0 xxhash==3.5.0 yarl==1.16.0 zarr==2.18.2 zict==3.0.0
zipp==3.20.2 zstandard==0.23.0
"""
V_2022_06 = """
affine==2.4.0 aiobotocore==2.15.1 aiohappyeyeballs==2.4.3 aiohttp==3.10.10 aioitertools==0.12.0
aiosignal==1.3.1 antlr4-python3-runtime==4.13.2 appdirs==1.4.4 asciitree==0.3.3
async-timeout==4.0.3 attrs==24.2.0 beautifulsoup4==4.12.3 boto3==1.35.23 botocore==1.35.23
bottleneck==1.4.2 brotli==1.1.0 cached-property==1.5.2 cartopy==0.24.0 certifi==2024.8.30
cf-units==3.3.0 cffi==1.17.1 cfgrib==0.9.14.1 cfgv==3.3.1 cftime==1.6.4 charset-normalizer==3.4.0
click==8.1.7 click-plugins==1.1.1 cligj==0.7.2 cloudpickle==3.1.0 colorama==0.4.6 contourpy==1.3.0
coverage==7.6.4 cycler==0.12.1 cytoolz==1.0.0 dask==2022.8.1 distlib==0.3.9 distributed==2021.4.1
docopt-ng==0.9.0 eccodes==2.37.0 exceptiongroup==1.2.2 execnet==2.1.1 fasteners==0.17.3
fastjsonschema==2.20.0 filelock==3.16.1 findlibs==0.0.5 flexcache==0.3 flexparser==0.3.1
flox==0.9.12 fonttools==4.54.1 frozenlist==1.5.0 fsspec==2024.10.0 future==1.0.0 h2==4.1.0
h5netcdf==1.4.0 h5py==3.12.1 hpack==4.0.0 hyperframe==6.0.1 hypothesis==6.115.5 identify==2.6.1
idna==3.10 importlib-metadata==8.5.0 importlib-resources==6.4.5 iniconfig==2.0.0 jinja2==3.1.4
jmespath==1.0.1 jsonschema==4.23.0 jsonschema-specifications==2024.10.1 jupyter-core==5.7.2
kiwisolver==1.4.7 lazy-object-proxy==1.10.0 llvmlite==0.43.0 locket==1.0.0 lxml==5.3.0
markupsafe==3.0.2 matplotlib==3.9.2 msgpack==1.1.0 multidict==6.1.0 munkres==1.1.4 nbformat==5.10.4
nc-time-axis==1.4.1 netcdf4==1.7.1 nodeenv==1.9.1 numba==0.60.0 numbagg==0.8.2 numcodecs==0.13.1
numexpr==2.10.1 numpy==1.23.0 numpy-groupies==0.11.2 packaging==23.1 pandas==1.5.3 partd==1.4.2
patsy==0.5.6 pillow==11.0.0 pint==0.24.3 pkgutil-resolve-name==1.3.10 platformdirs==4.3.6
pluggy==1.5.0 pooch==1.8.2 pre-commit==4.0.1 propcache==0.2.0 pseudonetcdf==3.4.0 psutil==6.0.0
pycparser==2.22 pydap==3.5 pyparsing==3.2.0 pyproj==3.7.0 pyshp==2.3.1 pysocks==1.7.1 pytest==7.4.0
pytest-cov==5.0.0 pytest-env==1.0.1 pytest-xdist==3.6.1 python-dateutil==2.8.2 pytz==2023.3
pyyaml==6.0.2 rasterio==1.3.11 referencing==0.35.1 requests==2.32.3 rpds-py==0.20.0
s3transfer==0.10.3 scipy==1.11.1 scitools-iris==3.4.1 seaborn==0.13.2 setuptools==68.0.0
shapely==2.0.6 six==1.16.0 snuggs==1.4.7 sortedcontainers==2.4.0 soupsieve==2.5 sparse==0.15.4
statsmodels==0.14.4 tblib==3.0.0 toml==0.10.2 tomli==2.0.2 toolz==1.0.0 tornado==6.4.1
traitlets==5.14.3 typing-extensions==4.12.2 tzdata==2024.2 ukkonen==1.0.1 unicodedata2==15.1.0
urllib3==2.2.3 virtualenv==20.27.0 webob==1.8.8 wheel==0.44.0 wrapt==1.16.0 xxhash==3.5.0
yarl==1.16.0 zarr==2.18.2 zict==3.0.0 zipp==3.20.2 zstandard==0.23.0
"""
V_2022_09 = """
affine==2.4.0 aiobotocore==2.15.1 aiohappyeyeballs==2.4.3 aiohttp==3.10.10 aioitertools==0.12.0
aiosignal==1.3.1 antlr4-python3-runtime==4.13.2 appdirs==1.4.4 asciitree==0.3.3
async-timeout==4.0.3 attrs==24.2.0 beautifulsoup4==4.12.3 boto3==1.35.23 botocore==1.35.23
bottleneck==1.4.2 brotli==1.1.0 cached-property==1.5.2 cartopy==0.24.0 certifi==2024.8.30
cf-units==3.3.0 cffi==1.17.1 cfgv==3.3.1 cftime==1.6.4 charset-normalizer==3.4.0 click==8.1.7
click-plugins==1.1.1 cligj==0.7.2 cloudpickle==3.1.0 colorama==0.4.6 contourpy==1.3.0
coverage==7.6.4 cycler==0.12.1 cytoolz==1.0.0 dask==2022.8.1 distlib==0.3.9 distributed==2021.4.1
docopt-ng==0.9.0 exceptiongroup==1.2.2 execnet==2.1.1 fasteners==0.17.3 fastjsonschema==2.20.0
filelock==3.16.1 flexcache==0.3 flexparser==0.3.1 flox==0.9.12 fonttools==4.54.1 frozenlist==1.5.0
fsspec==2024.10.0 future==1.0.0 h2==4.1.0 h5netcdf==1.4.0 h5py==3.12.1 hpack==4.0.0
hyperframe==6.0.1 hypothesis==6.115.5 identify==2.6.1 idna==3.10 importlib-metadata==8.5.0
importlib-resources==6.4.5 iniconfig==2.0.0 jinja2==3.1.4 jmespath==1.0.1 jsonschema==4.23.0
jsonschema-specifications==2024.10.1 jupyter-core==5.7.2 kiwisolver==1.4.7
lazy-object-proxy==1.10.0 llvmlite==0.43.0 locket==1.0.0 lxml==5.3.0 markupsafe==3.0.2
matplotlib==3.9.2 msgpack==1.1.0 multidict==6.1.0 munkres==1.1.4 nbformat==5.10.4
nc-time-axis==1.4.1 netcdf4==1.7.1 nodeenv==1.9.1 numba==0.60.0 numbagg==0.8.2 numcodecs==0.13.1
numexpr==2.10.1 numpy==1.23.0 numpy-groupies==0.11.2 packaging==23.1 pandas==1.5.3 partd==1.4.2
patsy==0.5.6 pillow==11.0.0 pint==0.24.3 pkgutil-resolve-name==1.3.10 platformdirs==4.3.6
pluggy==1.5.0 pooch==1.8.2 pre-commit==4.0.1 propcache==0.2.0 pseudonetcdf==3.4.0 psutil==6.0.0
pycparser==2.22 pydap==3.5 pyparsing==3.2.0 pyproj==3.7.0 pyshp==2.3.1 pysocks==1.7.1 pytest==7.4.0
pytest-cov==5.0.0 pytest-env==1.0.1 pytest-timeout==2.3.1 pytest-xdist==3.6.1
python-dateutil==2.8.2 pytz==2023.3 pyyaml==6.0.2 rasterio==1.3.11 referencing==0.35.1
requests==2.32.3 rpds-py==0.20.0 s3transfer==0.10.3 scipy==1.11.1 scitools-iris==3.4.1
seaborn==0.13.2 setuptools==68.0.0 shapely==2.0.6 six==1.16.0 snuggs==1.4.7 sortedcontainers==2.4.0
soupsieve==2.5 sparse==0.15.4 statsmodels==0.14.4 tblib==3.0.0 toml==0.10.2 tomli==2.0.2
toolz==1.0.0 tornado==6.4.1 traitlets==5.14.3 typing-extensions==4.12.2 tzdata==2024.2
ukkonen==1.0.1 unicodedata2==15.1.0 urllib3==2.2.3 virtualenv==20.27.0 webob==1.8.8 wheel==0.44.0
wrapt==1.16.0 xxhash==3.5.0 yarl==1.16.0 zarr==2.18.2 zict==3.0.0 zipp==3.20.2 zstandard==0.23.0
"""

SPECS: dict[str, dict[str, RepoSpec]] = {
    "pydata/xarray": {
        **_versions("0.12", RepoSpec("3.10", V_0_12)),
        **_versions("2022.03", RepoSpec("3.10", V_2022_03)),
        **_versions("2022.06", RepoSpec("3.10", V_2022_06)),
        **_versions("2022.09", RepoSpec("3.10", V_2022_09)),
    },
}
INSTANCE_PINS: dict[str, str] = {}
