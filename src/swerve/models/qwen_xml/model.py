"""``QwenXMLModel``: a plain chat model made to speak the Model protocol with tools, through the
XML protocol in its prompt."""

from __future__ import annotations

from swerve.models.base import (
    Message,
    Model,
    ModelTurn,
    Sampling,
    TextCallback,
    ToolSpec,
)
from swerve.models.qwen_xml.parse import parse_reply
from swerve.models.qwen_xml.render import render_history
from swerve.models.qwen_xml.stream import StreamParser

TRUNCATED_CALL_ERROR = (
    "the reply reached the output token limit inside this call, so the call was cut off and not run; "
    "make it again with less text (for example, write a large file in several steps)"
)


class QwenXMLModel:
    """Gives tool calling to a chat endpoint that has no server-side tool parser: tools and
    history go in as Qwen3-Coder XML text, and calls are parsed out of the reply text."""

    def __init__(self, inner: Model, system_suffix: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.context_window = inner.context_window
        self.system_suffix = system_suffix

    async def complete(
        self,
        messages: list[Message],
        tools: list[ToolSpec],
        *,
        sampling: Sampling | None = None,
        on_text: TextCallback | None = None,
    ) -> ModelTurn:
        rendered = render_history(messages, tools, self.system_suffix)
        parser = StreamParser(tools)

        def relay(delta: str) -> None:
            shown = parser.feed(delta)
            if shown and on_text is not None:
                on_text(shown)

        turn = await self.inner.complete(rendered, [], sampling=sampling, on_text=relay)
        if turn.text == parser.text:
            parser.finish()
            result = parser.result
            assert result is not None
            rest = parser.unshown(result.content)
        else:  # the endpoint did not stream (all of) its text
            result = parse_reply(turn.text, tools)
            rest = parser.unshown(result.content) if parser.shown else result.content
        if rest and on_text is not None:
            on_text(rest)
        calls = result.calls + list(turn.tool_calls)
        finish = turn.finish_reason
        if result.calls and finish == "length" and not result.complete:
            last = result.calls[-1]  # a cut-off call is not a complete one: never run it
            last.error = f"{last.error}; {TRUNCATED_CALL_ERROR}" if last.error else TRUNCATED_CALL_ERROR
        elif result.calls and finish == "stop":
            finish = "tool_calls"
        return ModelTurn(
            text=result.content,
            tool_calls=calls,
            usage=turn.usage,
            finish_reason=finish,
            raw_text=turn.raw_text or turn.text,
            request=turn.request,
            tokens=turn.tokens,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
