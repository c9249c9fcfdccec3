"""``POST /v1/chat/completions``: OpenAI's chat API over the model's own chat template.

Tools go through the template (Qwen2.5's asks for Hermes ``<tool_call>`` JSON) and the reply is
parsed back into ``tool_calls``. A final assistant message is continued (llama.cpp's assistant
prefill; ``continue_final_message: false`` turns that off), and the reply holds only new text; streaming sends text deltas with call markup held back, then
each call as a header delta and an arguments delta. vLLM's ``return_token_ids`` adds
``prompt_token_ids`` (top level; first chunk when streaming) and ``choices[].token_ids``
(per chunk when streaming); those ids, and ``logprobs.content``, cover every sampled token,
the end-of-turn token included, so they line up one to one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from swerve.httpd import HTTPError, Request, Response, StreamResponse, json_response, sse_response
from swerve.local import params as P
from swerve.local import shapes
from swerve.local.scheduler import Finished, Job, Token
from swerve.local.template import TemplateError, prefill_of
from swerve.local.toolcalls import ToolCall, ToolCallStream

if TYPE_CHECKING:
    from swerve.local.api import Service


def tools_for(body: dict[str, Any]) -> list[Any] | None:
    """The tools to render: none when ``tool_choice`` is "none" or no tools were sent."""
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise HTTPError(400, "'tools' must be a list")
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return None
    if not isinstance(choice, str | dict):
        raise HTTPError(400, "'tool_choice' must be a string or an object")
    return tools or None


def prefill_for(body: dict[str, Any]) -> str:
    """The final assistant text to continue: llama.cpp continues one by default, vLLM on request."""
    if body.get("continue_final_message") is False:
        return ""
    try:
        return prefill_of(body.get("messages"))
    except TemplateError as exc:
        raise HTTPError(400, str(exc)) from None


def _splitter(parse_tools: bool, prefill: str) -> ToolCallStream | None:
    """A tool-call splitter that has already seen the prefill (a call it opened is completed)."""
    if not parse_tools:
        return None
    splitter = ToolCallStream()
    splitter.prime(prefill)
    return splitter


async def handle(service: Service, request: Request) -> Response | StreamResponse:
    body = request.json_object()
    service.check_model(body)
    gen = P.generation(body, service.defaults, "chat")
    tools = tools_for(body)
    prefill = prefill_for(body)
    prompt = service.tokenize_prompt(service.render(body, tools, prefill), from_template=True)
    service.check_fits(prompt, gen)
    job = Job(prompt, gen.params, gen.max_tokens, gen.stop, gen.logprobs, gen.cache_prompt, gen.ignore_eos)
    if gen.stream:
        return sse_response(_stream(service, job, gen, _splitter(bool(tools), prefill)))
    return json_response(await _complete(service, job, gen, _splitter(bool(tools), prefill)))


async def _complete(
    service: Service, job: Job, gen: P.Generation, splitter: ToolCallStream | None
) -> dict[str, Any]:
    text: list[str] = []
    tokens: list[int] = []
    logprobs: list[dict[str, Any]] = []
    done: Finished | None = None
    async for event in service.scheduler.generate(job):
        if isinstance(event, Token):
            text.append(event.text)
            tokens.append(event.token)
            if gen.logprobs:
                logprobs.append(shapes.openai_logprob(service.model, event))
        else:
            done = event
            text.append(event.text)
    assert done is not None
    shapes.raise_if_failed(done)
    reply = "".join(text)
    calls: list[ToolCall] = []
    if splitter is not None:
        splitter.feed(reply)
        splitter.finish(done.reason == "stop")
        reply, calls = splitter.content, splitter.calls
    message: dict[str, Any] = {"role": "assistant", "content": reply if reply or not calls else None}
    if calls:
        message["tool_calls"] = [c.as_openai() for c in calls]
    choice: dict[str, Any] = {
        "index": 0,
        "message": message,
        "logprobs": {"content": logprobs} if gen.logprobs else None,
        "finish_reason": shapes.finish_reason(done, bool(calls)),
    }
    out: dict[str, Any] = {
        "id": shapes.new_id("chatcmpl"),
        "object": "chat.completion",
        "created": shapes.now(),
        "model": service.alias,
        "choices": [choice],
        "usage": shapes.usage(done),
        "timings": done.timings,
    }
    if gen.return_token_ids:
        out["prompt_token_ids"] = job.prompt
        choice["token_ids"] = tokens
    return out


def _call_deltas(call: ToolCall, index: int) -> list[dict[str, Any]]:
    head = {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    return [
        {"tool_calls": [head]},
        {"tool_calls": [{"index": index, "function": {"arguments": call.arguments}}]},
    ]


async def _stream(
    service: Service, job: Job, gen: P.Generation, splitter: ToolCallStream | None
) -> AsyncIterator[Any]:
    base = {
        "id": shapes.new_id("chatcmpl"),
        "object": "chat.completion.chunk",
        "created": shapes.now(),
        "model": service.alias,
    }

    def chunk(
        delta: dict[str, Any], extra: dict[str, Any] | None = None, finish: str | None = None
    ) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        if extra:
            choice.update(extra)
        return {**base, "choices": [choice]}

    first = chunk({"role": "assistant", "content": ""})
    if gen.return_token_ids:
        first["prompt_token_ids"] = job.prompt
    yield first
    n_calls = 0

    def deltas(pieces: list[str | ToolCall]) -> list[dict[str, Any]]:
        nonlocal n_calls
        out: list[dict[str, Any]] = []
        for piece in pieces:
            if isinstance(piece, ToolCall):
                out.extend(_call_deltas(piece, n_calls))
                n_calls += 1
            elif piece:
                out.append({"content": piece})
        return out

    async for event in service.scheduler.generate(job):
        if isinstance(event, Token):
            pieces: list[str | ToolCall] = splitter.feed(event.text) if splitter else [event.text]
            extra: dict[str, Any] = {}
            if gen.logprobs:
                extra["logprobs"] = {"content": [shapes.openai_logprob(service.model, event)]}
            if gen.return_token_ids:
                extra["token_ids"] = [event.token]
            items = deltas(pieces)
            if not items and extra:
                items = [{}]
            for i, delta in enumerate(items):
                yield chunk(delta, extra if i == 0 else None)
            continue
        if event.reason == "error":
            yield shapes.error_event(event)
            return
        pieces = splitter.feed(event.text) if splitter else [event.text]
        if splitter:
            pieces += splitter.finish(event.reason == "stop")
        for delta in deltas(pieces):
            yield chunk(delta)
        last = chunk({}, finish=shapes.finish_reason(event, n_calls > 0))
        last["timings"] = event.timings
        yield last
        if gen.include_usage:
            yield {**base, "choices": [], "usage": shapes.usage(event)}
        yield "[DONE]"
