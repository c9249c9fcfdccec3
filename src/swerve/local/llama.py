"""A GGUF model and one llama.cpp context over it, through the runtime's C API.

:class:`LlamaModel` owns the model, the vocabulary, a context with one KV sequence per server
slot, and one reusable batch. Tokenizing and reading metadata are safe from any thread (the
vocabulary is read-only); everything that touches the context (:meth:`decode`, :meth:`logits`,
:meth:`forget`) belongs to the one scheduler thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from swerve.errors import LocalModelError
from swerve.local.runtime import Runtime, load_runtime


class ModelLoadError(LocalModelError):
    """The model file could not be loaded; the message names the file and the reason."""


class DecodeError(LocalModelError):
    """``llama_decode`` failed (the code is in the message)."""


@dataclass(frozen=True)
class ModelInfo:
    """What the server reports about the model (llama-server's names)."""

    path: str
    description: str
    n_params: int
    size: int
    n_ctx_train: int
    n_embd: int
    n_vocab: int
    vocab_type: int
    chat_template: str | None
    bos_token: str
    eos_token: str
    add_bos: bool
    metadata: dict[str, str]


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise ModelLoadError(f"{path} is not a GGUF file (it starts with {magic!r}, not b'GGUF')")


class LlamaModel:
    """A loaded model with ``n_seq`` KV sequences of ``n_ctx // n_seq`` tokens each."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        n_ctx: int = 0,
        n_seq: int = 1,
        n_threads: int | None = None,
        n_batch: int = 512,
        verbose: bool = False,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        _check_file(self.path)
        self.rt: Runtime = load_runtime(verbose)
        ffi, lib = self.rt.ffi, self.rt.lib
        self._ffi, self._lib = ffi, lib
        started = time.monotonic()
        params = lib.llama_model_default_params()
        params.n_gpu_layers = 0
        self._model = lib.llama_model_load_from_file(str(self.path).encode(), params)
        if self._model == ffi.NULL:
            raise ModelLoadError(
                f"llama.cpp could not load {self.path} (unsupported architecture or a damaged file)"
            )
        self._vocab = lib.llama_model_get_vocab(self._model)
        self.n_vocab = int(lib.llama_vocab_n_tokens(self._vocab))
        n_ctx_train = int(lib.llama_model_n_ctx_train(self._model))
        total = n_ctx if n_ctx > 0 else min(n_ctx_train, 32768)
        threads = n_threads or os.cpu_count() or 1
        cparams = lib.llama_context_default_params()
        cparams.n_ctx = total
        cparams.n_batch = n_batch
        cparams.n_ubatch = n_batch
        cparams.n_seq_max = n_seq
        cparams.kv_unified = False
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        cparams.no_perf = True
        self._ctx = lib.llama_init_from_model(self._model, cparams)
        if self._ctx == ffi.NULL:
            lib.llama_model_free(self._model)
            raise ModelLoadError(
                f"llama.cpp could not create a {total}-token context for {self.path} (not enough memory?)"
            )
        self._mem = lib.llama_get_memory(self._ctx)
        self.n_seq = n_seq
        self.n_ctx = int(lib.llama_n_ctx(self._ctx))
        self.n_ctx_seq = int(lib.llama_n_ctx_seq(self._ctx))
        self.n_batch = int(lib.llama_n_batch(self._ctx))
        self.n_threads = threads
        self._batch = lib.llama_batch_init(self.n_batch, 0, 1)
        self._pieces: dict[tuple[int, bool], bytes] = {}
        self.info = self._read_info()
        self.load_s = time.monotonic() - started

    # ----- metadata -----
    def _meta(self) -> dict[str, str]:
        ffi, lib = self._ffi, self._lib
        out: dict[str, str] = {}
        key = ffi.new("char[512]")
        value = ffi.new("char[4096]")
        for i in range(int(lib.llama_model_meta_count(self._model))):
            lib.llama_model_meta_key_by_index(self._model, i, key, 512)
            name = ffi.string(key).decode("utf-8", "replace")
            if name.startswith("tokenizer.ggml.") and name.split(".")[-1] in (
                "tokens",
                "merges",
                "token_type",
                "scores",
            ):
                continue
            if name == "tokenizer.chat_template":
                continue
            lib.llama_model_meta_val_str_by_index(self._model, i, value, 4096)
            out[name] = ffi.string(value).decode("utf-8", "replace")
        return out

    def _read_info(self) -> ModelInfo:
        ffi, lib = self._ffi, self._lib
        desc = ffi.new("char[256]")
        lib.llama_model_desc(self._model, desc, 256)
        template = lib.llama_model_chat_template(self._model, ffi.NULL)
        bos, eos = int(lib.llama_vocab_bos(self._vocab)), int(lib.llama_vocab_eos(self._vocab))
        return ModelInfo(
            path=str(self.path),
            description=ffi.string(desc).decode("utf-8", "replace"),
            n_params=int(lib.llama_model_n_params(self._model)),
            size=int(lib.llama_model_size(self._model)),
            n_ctx_train=int(lib.llama_model_n_ctx_train(self._model)),
            n_embd=int(lib.llama_model_n_embd(self._model)),
            n_vocab=self.n_vocab,
            vocab_type=int(lib.llama_vocab_type(self._vocab)),
            chat_template=ffi.string(template).decode("utf-8") if template != ffi.NULL else None,
            bos_token=self.piece(bos, special=True).decode("utf-8", "replace") if bos >= 0 else "",
            eos_token=self.piece(eos, special=True).decode("utf-8", "replace") if eos >= 0 else "",
            add_bos=bool(lib.llama_vocab_get_add_bos(self._vocab)),
            metadata=self._meta(),
        )

    @property
    def bos(self) -> int:
        return int(self._lib.llama_vocab_bos(self._vocab))

    # ----- vocabulary (any thread) -----
    def tokenize(self, text: str, *, add_special: bool = False, parse_special: bool = True) -> list[int]:
        """Token ids of ``text``; ``parse_special`` reads ``<|im_start|>``-style markup as tokens."""
        ffi, lib = self._ffi, self._lib
        data = text.encode("utf-8")
        capacity = len(data) + 8
        out = ffi.new("llama_token[]", capacity)
        n = lib.llama_tokenize(self._vocab, data, len(data), out, capacity, add_special, parse_special)
        if n < 0:
            capacity = -n
            out = ffi.new("llama_token[]", capacity)
            n = lib.llama_tokenize(self._vocab, data, len(data), out, capacity, add_special, parse_special)
        return list(ffi.unpack(out, n)) if n > 0 else []

    def piece(self, token: int, *, special: bool = False) -> bytes:
        """The bytes of one token (control tokens are empty unless ``special``)."""
        key = (token, special)
        cached = self._pieces.get(key)
        if cached is not None:
            return cached
        ffi, lib = self._ffi, self._lib
        buf = ffi.new("char[256]")
        n = lib.llama_token_to_piece(self._vocab, token, buf, 256, 0, special)
        if n < 0:
            buf = ffi.new("char[]", -n)
            n = lib.llama_token_to_piece(self._vocab, token, buf, -n, 0, special)
        value = ffi.buffer(buf, n)[:] if n > 0 else b""
        self._pieces[key] = value
        return value

    def detokenize(self, tokens: Sequence[int], *, special: bool = False) -> str:
        return b"".join(self.piece(t, special=special) for t in tokens).decode("utf-8", "replace")

    def is_eog(self, token: int) -> bool:
        return bool(self._lib.llama_vocab_is_eog(self._vocab, token))

    def valid_token(self, token: Any) -> bool:
        return isinstance(token, int) and not isinstance(token, bool) and 0 <= token < self.n_vocab

    # ----- context (scheduler thread only) -----
    def forget(self, seq: int, start: int) -> None:
        """Drop sequence ``seq``'s cache from position ``start`` on."""
        if not self._lib.llama_memory_seq_rm(self._mem, seq, start, -1):
            # A partial removal can fail on some cache types; then the whole sequence goes.
            self._lib.llama_memory_seq_rm(self._mem, seq, 0, -1)
            raise DecodeError(f"could not trim sequence {seq} at {start}; its cache was cleared")

    def decode(
        self, tokens: Sequence[int], positions: Sequence[int], seqs: Sequence[int], outputs: Sequence[bool]
    ) -> float:
        """One ``llama_decode`` over up to ``n_batch`` entries; returns its seconds."""
        batch = self._batch
        n = len(tokens)
        batch.n_tokens = n
        token, pos, n_seq_id, seq_id, logits = (
            batch.token,
            batch.pos,
            batch.n_seq_id,
            batch.seq_id,
            batch.logits,
        )
        for i in range(n):
            token[i] = tokens[i]
            pos[i] = positions[i]
            n_seq_id[i] = 1
            seq_id[i][0] = seqs[i]
            logits[i] = outputs[i]
        started = time.perf_counter()
        code = self._lib.llama_decode(self._ctx, batch)
        elapsed = time.perf_counter() - started
        if code != 0:
            raise DecodeError(
                f"llama_decode returned {code}" + (" (no room in the KV cache)" if code == 1 else "")
            )
        return elapsed

    def logits(self, index: int) -> np.ndarray:
        """The logits of batch entry ``index`` of the last decode (a view: copy before changing)."""
        ptr = self._lib.llama_get_logits_ith(self._ctx, index)
        return np.frombuffer(self._ffi.buffer(ptr, self.n_vocab * 4), dtype=np.float32)

    def close(self) -> None:
        lib = self._lib
        if getattr(self, "_ctx", None) is not None:
            lib.llama_batch_free(self._batch)
            lib.llama_free(self._ctx)
            lib.llama_model_free(self._model)
            self._ctx = None
