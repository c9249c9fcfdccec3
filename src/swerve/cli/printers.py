"""Headless output: plain text, one JSON result, or a JSONL stream in the shape Claude Code and
Qwen Code print (``system`` init, ``assistant`` and ``user`` messages, a final ``result``)."""

from __future__ import annotations

import json
import sys
import uuid
from typing import TYPE_CHECKING, Any, TextIO

from swerve.agent.events import Compressed, Event, Finished, ModelReplied, Notice, TextDelta, ToolFinished
from swerve.secrets import redact_obj

if TYPE_CHECKING:
    from swerve.cli.session import Session

SUBTYPES = {"completed": "success", "max_turns": "error_max_turns", "model_error": "error_model"}


def result_object(finished: Finished, session: Session) -> dict[str, Any]:
    s = session.settings
    cost = s.pricing.cost(finished.usage)
    return {
        "type": "result",
        "subtype": SUBTYPES.get(finished.exit_reason, f"error_{finished.exit_reason}"),
        "is_error": finished.is_error,
        "exit_reason": finished.exit_reason,
        "duration_ms": round(finished.duration_s * 1000),
        "duration_api_ms": round(finished.model_s * 1000),
        "num_turns": finished.num_turns,
        "result": finished.result,
        "error": finished.error,
        "session_id": session.log.session_id,
        "total_cost_usd": round(cost, 6),
        "usage": {
            "input_tokens": finished.usage.input_tokens,
            "output_tokens": finished.usage.output_tokens,
            "cache_read_input_tokens": finished.usage.cache_read_tokens,
        },
        "permission_denials": finished.denials,
    }


class Printer:
    def __init__(
        self, session: Session, out: TextIO, err: TextIO, include_partial: bool, verbose: bool
    ) -> None:
        self.session = session
        self.out = out
        self.err = err
        self.include_partial = include_partial
        self.verbose = verbose

    def start(self) -> None:
        pass

    def handle(self, event: Event) -> None:
        raise NotImplementedError


class TextPrinter(Printer):
    """Prints the final answer on stdout; with --verbose, tool calls and notices on stderr."""

    def handle(self, event: Event) -> None:
        if isinstance(event, ToolFinished) and self.verbose:
            mark = "denied" if event.denied else ("error" if event.result.is_error else "ok")
            print(f"  [{mark}] {event.call.name}", file=self.err)
        elif isinstance(event, Notice) and (self.verbose or event.kind == "warning"):
            print(f"swerve: {event.text}", file=self.err)
        elif isinstance(event, Finished):
            if event.result:
                print(event.result, file=self.out)
            if event.is_error:
                print(
                    f"swerve: run ended: {event.exit_reason}" + (f": {event.error}" if event.error else ""),
                    file=self.err,
                )
            self.out.flush()


class JsonPrinter(Printer):
    def handle(self, event: Event) -> None:
        if isinstance(event, Finished):
            self.out.write(json.dumps(result_object(event, self.session), ensure_ascii=False) + "\n")
            self.out.flush()


class StreamJsonPrinter(Printer):
    def _line(self, obj: dict[str, Any]) -> None:
        obj = redact_obj(obj, self.session.secrets)
        self.out.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
        self.out.flush()

    def start(self) -> None:
        s = self.session
        self._line(
            {
                "type": "system",
                "subtype": "init",
                "session_id": s.log.session_id,
                "cwd": s.workspace.root,
                "model": s.model.name,
                "tools": [spec.name for spec in s.tools.specs()],
                "permissionMode": s.settings.approval_mode,
                "tool_protocol": s.settings.tool_protocol,
            }
        )

    def handle(self, event: Event) -> None:
        sid = self.session.log.session_id
        if isinstance(event, TextDelta) and self.include_partial:
            self._line(
                {
                    "type": "stream_event",
                    "event": {
                        "type": "content_block_delta",
                        "delta": {"type": "text_delta", "text": event.text},
                    },
                    "session_id": sid,
                    "parent_tool_use_id": None,
                }
            )
        elif isinstance(event, ModelReplied):
            turn = event.turn
            content: list[dict[str, Any]] = []
            if turn.text:
                content.append({"type": "text", "text": turn.text})
            content += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in turn.tool_calls
            ]
            self._line(
                {
                    "type": "assistant",
                    "message": {
                        "id": "msg_" + uuid.uuid4().hex[:24],
                        "type": "message",
                        "role": "assistant",
                        "model": self.session.model.name,
                        "content": content,
                        "stop_reason": turn.finish_reason,
                        "usage": {
                            "input_tokens": turn.usage.input_tokens,
                            "output_tokens": turn.usage.output_tokens,
                        },
                    },
                    "parent_tool_use_id": None,
                    "session_id": sid,
                }
            )
        elif isinstance(event, ToolFinished):
            self._line(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": event.call.id,
                                "content": event.result.output,
                                "is_error": event.result.is_error,
                            }
                        ],
                    },
                    "parent_tool_use_id": None,
                    "session_id": sid,
                }
            )
        elif isinstance(event, Compressed):
            self._line(
                {
                    "type": "system",
                    "subtype": "compact_boundary",
                    "session_id": sid,
                    "tokens_before": event.tokens_before,
                    "tokens_after": event.tokens_after,
                }
            )
        elif isinstance(event, Notice):
            self._line(
                {
                    "type": "system",
                    "subtype": "notice",
                    "level": event.kind,
                    "text": event.text,
                    "session_id": sid,
                }
            )
        elif isinstance(event, Finished):
            self._line(result_object(event, self.session))


def make_printer(
    fmt: str, session: Session, *, include_partial: bool = False, verbose: bool = False
) -> Printer:
    cls = {"text": TextPrinter, "json": JsonPrinter, "stream-json": StreamJsonPrinter}[fmt]
    return cls(session, sys.stdout, sys.stderr, include_partial, verbose)
