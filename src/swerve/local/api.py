"""The local server's HTTP API: routes, model facts, tokenizer endpoints.

Answers in llama-server's shapes (``/health``, ``/props``, ``/slots``, ``/tokenize``,
``/detokenize``, ``/apply-template``, ``/completion``) and OpenAI's and vLLM's (``/v1/models``,
``/v1/chat/completions``, ``/v1/completions``), so clients written for either treat it as one
of them. Generation routes live in :mod:`swerve.local.chat` and :mod:`swerve.local.completions`.
"""

from __future__ import annotations

import time
from typing import Any

from swerve.httpd import HTTPError, Request, Response, Router, json_response
from swerve.local import params as P
from swerve.local.llama import LlamaModel
from swerve.local.sampling import LOGPROBS_MODE, SamplingParams
from swerve.local.scheduler import Scheduler
from swerve.local.template import TemplateError, render_chat


class Service:
    """Everything a request handler needs: the model, the scheduler, the name it answers to."""

    def __init__(
        self, model: LlamaModel, scheduler: Scheduler, alias: str, defaults: SamplingParams | None = None
    ) -> None:
        self.model = model
        self.scheduler = scheduler
        self.alias = alias
        self.defaults = defaults or SamplingParams()
        self.created = int(time.time())
        self.ready = True
        path = model.path
        self.names = {alias, path.name, path.stem, str(path)}

    def check_model(self, body: dict[str, Any]) -> None:
        """vLLM's rule: a request naming another model is a 404 (llama.cpp would ignore it)."""
        name = body.get("model")
        if name is None or name == "":
            return
        if not isinstance(name, str):
            raise HTTPError(400, "'model' must be a string")
        if name not in self.names:
            raise HTTPError(
                404,
                f"the model '{name}' is not served here; this server serves '{self.alias}'",
                type="model_not_found",
            )

    # ----- prompts -----
    def render(self, body: dict[str, Any], tools: Any, prefill: str = "") -> str:
        """The prompt for a chat body; ``prefill`` set: continue its final assistant message."""
        info = self.model.info
        extra = body.get("chat_template_kwargs")
        if extra is not None and not isinstance(extra, dict):
            raise HTTPError(400, "'chat_template_kwargs' must be an object")
        try:
            return render_chat(
                info.chat_template,
                body.get("messages"),
                tools=tools,
                add_generation_prompt=P.flag(body, "add_generation_prompt", True),
                bos_token=info.bos_token,
                eos_token=info.eos_token,
                extra=extra,
                continue_final=bool(prefill),
            )
        except TemplateError as exc:
            raise HTTPError(400, str(exc)) from None

    def tokenize_prompt(self, text: str, *, from_template: bool) -> list[int]:
        """Prompt ids: a rendered template decides its own BOS; raw text gets the vocab's."""
        model = self.model
        ids = model.tokenize(text, add_special=not from_template, parse_special=True)
        if from_template and model.info.add_bos and (not ids or ids[0] != model.bos):
            ids.insert(0, model.bos)
        return ids

    def check_tokens(self, ids: Any, field: str) -> list[int]:
        if not isinstance(ids, list) or not all(self.model.valid_token(t) for t in ids):
            bad = (
                next((t for t in ids if not self.model.valid_token(t)), None)
                if isinstance(ids, list)
                else ids
            )
            raise HTTPError(
                400, f"'{field}' must be a list of token ids in [0, {self.model.n_vocab}); got {bad!r}"
            )
        return ids

    def check_fits(self, prompt: list[int], gen: P.Generation) -> None:
        """A 400 (``exceed_context_size_error``) when the prompt leaves no room to generate."""
        limit = self.model.n_ctx_seq
        if not prompt:
            raise HTTPError(400, "the prompt is empty")
        if len(prompt) >= limit:
            raise HTTPError(
                400,
                f"the prompt is {len(prompt)} tokens, and this server's context holds "
                f"{limit} tokens per slot; shorten it or start the server with a larger --ctx",
                type="exceed_context_size_error",
            )
        gen.max_tokens = min(gen.max_tokens, limit - len(prompt))

    # ----- facts -----
    def model_meta(self) -> dict[str, Any]:
        info = self.model.info
        return {
            "vocab_type": info.vocab_type,
            "n_vocab": info.n_vocab,
            "n_ctx_train": info.n_ctx_train,
            "n_embd": info.n_embd,
            "n_params": info.n_params,
            "size": info.size,
            "n_ctx": self.model.n_ctx_seq,
        }

    def slot_view(self, index: int) -> dict[str, Any]:
        slot = self.scheduler.slots[index]
        settings = slot.params.as_dict()
        return {
            "id": slot.id,
            "id_task": -1,
            "n_ctx": self.model.n_ctx_seq,
            "speculative": False,
            "is_processing": slot.busy,
            "n_cached": len(slot.tokens),
            "params": settings,
        }

    def props(self) -> dict[str, Any]:
        info = self.model.info
        rt = self.model.rt
        settings = {
            **self.slot_view(0),
            "is_processing": False,
            "params": {**self.defaults.as_dict(), "n_predict": P.DEFAULT_MAX_TOKENS},
        }
        return {
            "default_generation_settings": settings,
            "total_slots": len(self.scheduler.slots),
            "model_alias": self.alias,
            "model_path": info.path,
            "chat_template": info.chat_template or "",
            "bos_token": info.bos_token,
            "eos_token": info.eos_token,
            "modalities": {"vision": False, "audio": False},
            "build_info": f"swerve local server, llama.cpp {rt.llama_commit} ({rt.version} wheel"
            f"{', glibc-compat copy' if rt.patched else ''})",
            "logprobs_mode": LOGPROBS_MODE,
            "n_threads": self.model.n_threads,
            "load_s": self.model.load_s,
            "queued_requests": self.scheduler.queued,
            "decode_steps": self.scheduler.steps,
            "decode_s": self.scheduler.decode_s,
            "step_s": self.scheduler.step_s,
        }


def _tokenize(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp's ``/tokenize`` (``content``), or vLLM's: a ``prompt``, or chat ``messages``
    rendered with the model's template first."""
    if "messages" in body or "prompt" in body:
        return _tokenize_vllm(service, body)
    content = body.get("content")
    if not isinstance(content, str):
        raise HTTPError(400, "'content' must be a string")
    ids = service.model.tokenize(
        content, add_special=P.flag(body, "add_special"), parse_special=P.flag(body, "parse_special", True)
    )
    if not P.flag(body, "with_pieces"):
        return {"tokens": ids}
    pieces: list[dict[str, Any]] = []
    for token in ids:
        data = service.model.piece(token, special=True)
        try:
            piece: Any = data.decode("utf-8")
        except UnicodeDecodeError:
            piece = list(data)
        pieces.append({"id": token, "piece": piece})
    return {"tokens": pieces}


def build_router(service: Service) -> Router:
    """All routes of the local server."""
    from swerve.local import chat, completions

    router = Router()

    @router.route("GET", "/health", "/v1/health")
    async def health(request: Request) -> Response:
        if not service.ready:
            raise HTTPError(503, "Loading model", type="unavailable_error")
        return json_response({"status": "ok"})

    @router.route("GET", "/v1/models", "/models")
    async def models(request: Request) -> Response:
        entry = {
            "id": service.alias,
            "object": "model",
            "created": service.created,
            "owned_by": "swerve",
            "meta": service.model_meta(),
        }
        return json_response({"object": "list", "data": [entry]})

    @router.route("GET", "/props")
    async def props(request: Request) -> Response:
        return json_response(service.props())

    @router.route("GET", "/slots")
    async def slots(request: Request) -> Response:
        return json_response([service.slot_view(i) for i in range(len(service.scheduler.slots))])

    @router.route("POST", "/tokenize")
    async def tokenize(request: Request) -> Response:
        return json_response(_tokenize(service, request.json_object()))

    @router.route("POST", "/detokenize")
    async def detokenize(request: Request) -> Response:
        ids = service.check_tokens(request.json_object().get("tokens"), "tokens")
        text = service.model.detokenize(ids, special=True)
        return json_response({"content": text, "prompt": text})  # llama.cpp's name and vLLM's

    @router.route("POST", "/apply-template")
    async def apply_template(request: Request) -> Response:
        body = request.json_object()
        return json_response({"prompt": service.render(body, chat.tools_for(body), chat.prefill_for(body))})

    router.add("POST", "/v1/chat/completions", lambda request: chat.handle(service, request))
    router.add("POST", "/chat/completions", lambda request: chat.handle(service, request))
    router.add("POST", "/completion", lambda request: completions.handle_llama(service, request))
    router.add("POST", "/completions", lambda request: completions.handle_llama(service, request))
    router.add("POST", "/v1/completions", lambda request: completions.handle_openai(service, request))
    return router


def _tokenize_vllm(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    from swerve.local import chat

    if "messages" in body:
        generation = P.flag(body, "add_generation_prompt", True)
        keep_open = P.flag(body, "continue_final_message")
        if generation and keep_open:
            raise HTTPError(400, "'continue_final_message' and 'add_generation_prompt' cannot both be true")
        prefill = chat.prefill_for(body) if keep_open else ""
        text = service.render({**body, "add_generation_prompt": generation}, chat.tools_for(body), prefill)
        ids = service.tokenize_prompt(text, from_template=True)
        if P.flag(body, "add_special_tokens") and (not ids or ids[0] != service.model.bos):
            ids.insert(0, service.model.bos)
    else:
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise HTTPError(400, "'prompt' must be a string")
        ids = service.model.tokenize(
            prompt, add_special=P.flag(body, "add_special_tokens", True), parse_special=True
        )
    return {"count": len(ids), "max_model_len": service.model.n_ctx_seq, "tokens": ids}
