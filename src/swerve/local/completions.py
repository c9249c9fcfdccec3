"""Raw completions: llama.cpp's ``POST /completion`` and OpenAI's ``POST /v1/completions``.

A prompt is a string or a list of token ids (vLLM accepts ids in ``/v1/completions`` too; llama.cpp
also mixes strings and ids in one list). Ids are fed to the model exactly as given: no BOS is
added and nothing is re-tokenized, so token-in-token-out round trips hold. A string prompt is
tokenized with the vocabulary's own BOS rule, as both servers do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from swerve.httpd import HTTPError, Request, Response, StreamResponse, json_response, sse_response
from swerve.local import params as P
from swerve.local import shapes
from swerve.local.scheduler import Finished, Job, Token

if TYPE_CHECKING:
    from swerve.local.api import Service


def prompt_ids(service: Service, prompt: Any) -> list[int]:
    """The token ids of a completions ``prompt`` (string, ids, or one-element lists of those)."""
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], list | str):
        prompt = prompt[0]
    if isinstance(prompt, str):
        return service.tokenize_prompt(prompt, from_template=False)
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
            return service.check_tokens(prompt, "prompt")
        if all(isinstance(p, int | str) and not isinstance(p, bool) for p in prompt):
            ids: list[int] = []
            for i, part in enumerate(prompt):
                if isinstance(part, str):
                    ids.extend(service.model.tokenize(part, add_special=i == 0, parse_special=True))
                else:
                    ids.extend(service.check_tokens([part], "prompt"))
            return ids
        raise HTTPError(
            400, "'prompt' must be one prompt: a string or a list of token ids (batches are not served)"
        )
    raise HTTPError(400, "'prompt' must be a non-empty string or a non-empty list of token ids")


def _prepare(service: Service, body: dict[str, Any], dialect: str) -> tuple[Job, P.Generation]:
    service.check_model(body)
    gen = P.generation(body, service.defaults, dialect)
    if "prompt" not in body:
        raise HTTPError(400, "'prompt' is required")
    if dialect == "completions" and P.flag(body, "echo"):
        raise HTTPError(400, "'echo' is not supported by this server")
    ids = prompt_ids(service, body["prompt"])
    service.check_fits(ids, gen)
    return Job(ids, gen.params, gen.max_tokens, gen.stop, gen.logprobs, gen.cache_prompt, gen.ignore_eos), gen


# ----- llama.cpp: /completion -----
def _llama_final(
    service: Service,
    job: Job,
    gen: P.Generation,
    done: Finished,
    content: str,
    tokens: list[int],
    probs: list[dict[str, Any]],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": 0,
        "content": content,
        "tokens": tokens if gen.return_token_ids else [],
        "id_slot": done.slot,
        "stop": True,
        "model": service.alias,
        "tokens_predicted": done.generated_n,
        "tokens_evaluated": done.prompt_n,
        "tokens_cached": done.prompt_n + done.generated_n,
        "generation_settings": gen.settings(),
        "has_new_line": "\n" in content,
        "truncated": False,
        "stop_type": done.stop_type,
        "stopping_word": done.stopping_word,
        "timings": done.timings,
    }
    if gen.params.n_probs > 0:
        out["completion_probabilities"] = probs
    return out


async def handle_llama(service: Service, request: Request) -> Response | StreamResponse:
    job, gen = _prepare(service, request.json_object(), "llama")
    if gen.stream:
        return sse_response(_llama_stream(service, job, gen))
    text: list[str] = []
    tokens: list[int] = []
    probs: list[dict[str, Any]] = []
    done: Finished | None = None
    async for event in service.scheduler.generate(job):
        if isinstance(event, Token):
            text.append(event.text)
            tokens.append(event.token)
            if gen.params.n_probs > 0:
                probs.append(shapes.llama_probability(service.model, event))
        else:
            done = event
            text.append(event.text)
    assert done is not None
    shapes.raise_if_failed(done)
    return json_response(_llama_final(service, job, gen, done, "".join(text), tokens, probs))


async def _llama_stream(service: Service, job: Job, gen: P.Generation) -> AsyncIterator[Any]:
    predicted = 0
    async for event in service.scheduler.generate(job):
        if isinstance(event, Finished):
            if event.reason == "error":
                yield shapes.error_event(event)
                return
            final = _llama_final(service, job, gen, event, event.text, [], [])
            yield final
            return
        predicted += 1
        item: dict[str, Any] = {
            "index": 0,
            "content": event.text,
            "tokens": [event.token],
            "stop": False,
            "id_slot": -1,
            "tokens_predicted": predicted,
            "tokens_evaluated": len(job.prompt),
        }
        if gen.params.n_probs > 0:
            item["completion_probabilities"] = [shapes.llama_probability(service.model, event)]
        yield item


# ----- OpenAI legacy: /v1/completions -----
def _legacy_logprobs(service: Service, events: list[Token], offset: int) -> dict[str, Any]:
    tokens, values, tops, offsets = [], [], [], []
    for event in events:
        text = service.model.piece(event.token, special=True).decode("utf-8", "replace")
        tokens.append(text)
        values.append(event.logprob)
        tops.append(
            {service.model.piece(t, special=True).decode("utf-8", "replace"): lp for t, lp in event.top}
            if event.top
            else None
        )
        offsets.append(offset)
        offset += len(event.text)
    return {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}


async def handle_openai(service: Service, request: Request) -> Response | StreamResponse:
    job, gen = _prepare(service, request.json_object(), "completions")
    base = {
        "id": shapes.new_id("cmpl"),
        "object": "text_completion",
        "created": shapes.now(),
        "model": service.alias,
    }
    if gen.stream:
        return sse_response(_openai_stream(service, job, gen, base))
    text: list[str] = []
    events: list[Token] = []
    done: Finished | None = None
    async for event in service.scheduler.generate(job):
        if isinstance(event, Token):
            text.append(event.text)
            events.append(event)
        else:
            done = event
            text.append(event.text)
    assert done is not None
    shapes.raise_if_failed(done)
    choice: dict[str, Any] = {
        "index": 0,
        "text": "".join(text),
        "logprobs": _legacy_logprobs(service, events, 0) if gen.logprobs else None,
        "finish_reason": shapes.finish_reason(done),
    }
    if gen.return_token_ids:
        choice["prompt_token_ids"] = job.prompt
        choice["token_ids"] = [e.token for e in events]
    return json_response({**base, "choices": [choice], "usage": shapes.usage(done), "timings": done.timings})


async def _openai_stream(
    service: Service, job: Job, gen: P.Generation, base: dict[str, Any]
) -> AsyncIterator[Any]:
    offset = 0
    first = True
    async for event in service.scheduler.generate(job):
        if isinstance(event, Finished):
            if event.reason == "error":
                yield shapes.error_event(event)
                return
            choice: dict[str, Any] = {
                "index": 0,
                "text": event.text,
                "logprobs": None,
                "finish_reason": shapes.finish_reason(event),
            }
            yield {**base, "choices": [choice], "timings": event.timings}
            if gen.include_usage:
                yield {**base, "choices": [], "usage": shapes.usage(event)}
            yield "[DONE]"
            return
        choice = {
            "index": 0,
            "text": event.text,
            "finish_reason": None,
            "logprobs": _legacy_logprobs(service, [event], offset) if gen.logprobs else None,
        }
        if gen.return_token_ids:
            choice["token_ids"] = [event.token]
            if first:
                choice["prompt_token_ids"] = job.prompt
        first = False
        offset += len(event.text)
        yield {**base, "choices": [choice]}
