"""Pure pieces of the local server: chat templates, tool-call parsing, text assembly, sampling, params."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from swerve.httpd import HTTPError
from swerve.local.params import DEFAULT_MAX_TOKENS, generation
from swerve.local.sampling import Sampler, SamplingParams
from swerve.local.template import CHATML, TemplateError, render_chat
from swerve.local.textout import TextAssembler
from swerve.local.toolcalls import ToolCall, ToolCallStream, parse_call

# A small template in the style of Qwen2.5's: tools as JSON in the system turn, calls as Hermes tags.
TEMPLATE = """{%- if tools %}<|system|>tools:{% for tool in tools %}
{{ tool | tojson }}{% endfor %}<|end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'assistant' and message.tool_calls %}<|assistant|>{{ message.content }}
{%- for call in message.tool_calls %}<tool_call>{{ call.function | tojson }}</tool_call>{% endfor %}<|end|>
{% elif message.role == 'bad' %}{{ raise_exception('no bad roles') }}
{%- else %}<|{{ message.role }}|>{{ message.content }}<|end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|assistant|>{% endif %}"""

TOOL = {"type": "function", "function": {"name": "read_file", "description": "Läs en fil",
                                         "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}


def test_template_renders_tools_calls_and_parts():
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "read "}, {"type": "text", "text": "a.py"}]},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "x = 1"},
    ]
    text = render_chat(TEMPLATE, messages, tools=[TOOL])
    assert '"description": "Läs en fil"' in text  # tojson keeps non-ASCII text
    assert "<|user|>read a.py<|end|>" in text
    # Arguments sent as JSON text reach the template as an object.
    assert '<tool_call>{"name": "read_file", "arguments": {"path": "a.py"}}</tool_call>' in text
    assert text.endswith("<|tool|>x = 1<|end|>\n<|assistant|>")


def test_template_without_generation_prompt_and_continuation():
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "<tool_call>\n"}]
    closed = render_chat(TEMPLATE, messages, add_generation_prompt=False)
    assert closed.endswith("<|assistant|><tool_call>\n<|end|>\n")
    opened = render_chat(TEMPLATE, messages, continue_final=True)
    assert opened.endswith("<|assistant|><tool_call>\n")
    with pytest.raises(TemplateError, match="can be continued"):
        render_chat(TEMPLATE, [{"role": "user", "content": "hi"}], continue_final=True)


def test_template_errors_are_clear():
    with pytest.raises(TemplateError, match="no bad roles"):
        render_chat(TEMPLATE, [{"role": "bad", "content": "x"}])
    with pytest.raises(TemplateError, match="non-empty list"):
        render_chat(TEMPLATE, [])
    with pytest.raises(TemplateError, match="image_url"):
        render_chat(TEMPLATE, [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}])
    with pytest.raises(TemplateError, match="needs a 'role'"):
        render_chat(TEMPLATE, [{"content": "x"}])
    with pytest.raises(TemplateError, match="does not compile"):
        render_chat("{% if %}", [{"role": "user", "content": "x"}])
    with pytest.raises(TemplateError, match=r"tools\[0\]"):
        render_chat(TEMPLATE, [{"role": "user", "content": "x"}], tools=[{"type": "function"}])


def test_template_is_sandboxed():
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(TemplateError):
        render_chat(evil, [{"role": "user", "content": "x"}])


def test_chatml_fallback():
    assert render_chat(None, [{"role": "user", "content": "hi"}]) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    assert render_chat(CHATML, [{"role": "user", "content": "hi"}], add_generation_prompt=False).endswith("<|im_end|>\n")


def test_parse_call_shapes():
    call = parse_call('\n{"name": "read_file", "arguments": {"path": "é.py"}}\n')
    assert call is not None and call.name == "read_file" and json.loads(call.arguments) == {"path": "é.py"}
    assert "é" in call.arguments
    assert parse_call('```json\n{"name": "x", "arguments": {}}\n```').name == "x"
    assert parse_call('{"name": "x", "arguments": "{\\"a\\": 1}"}').arguments == '{"a": 1}'
    assert parse_call('{"name": "x", "parameters": {"a": 2}}').arguments == '{"a": 2}'
    for bad in ("not json", "[1]", '{"arguments": {}}', '{"name": "", "arguments": {}}',
                '{"name": "x", "arguments": [1]}', '{"name": "x", "arguments": "nope"}'):
        assert parse_call(bad) is None, bad


def split_reply(text: str, complete: bool = True) -> tuple[str, list[ToolCall]]:
    stream = ToolCallStream()
    stream.feed(text)
    stream.finish(complete)
    return stream.content, stream.calls


def test_split_reply_keeps_everything_that_is_not_a_call():
    text = 'Let me look.\n\n<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": {"k": 1}}\n</tool_call>'
    content, calls = split_reply(text)
    assert content == "Let me look."
    assert [(c.name, c.arguments) for c in calls] == [("a", "{}"), ("b", '{"k": 1}')]
    assert len({c.id for c in calls}) == 2
    assert split_reply("plain text  \n") == ("plain text  \n", [])
    assert split_reply("<tool_call>oops</tool_call> after") == ("<tool_call>oops</tool_call> after", [])
    # A call the reply ends on, unclosed: complete when the model stopped, content when it was cut off.
    assert split_reply('<tool_call>\n{"name": "a", "arguments": {}}', complete=True)[1][0].name == "a"
    cut = '<tool_call>\n{"name": "a", "argu'
    assert split_reply(cut, complete=False) == (cut, [])
    assert split_reply("a <tool_c", complete=True) == ("a <tool_c", [])


@pytest.mark.parametrize("size", [1, 2, 5, 1000])
def test_stream_splitting_matches_whole_reply(size):
    text = 'Sure <b>!\n<tool_call>\n{"name": "a", "arguments": {"s": "<tool_call> inside"}}\n</tool_call>\ndone'
    stream = ToolCallStream()
    out = []
    for i in range(0, len(text), size):
        out += stream.feed(text[i:i + size])
    out += stream.finish(True)
    content = "".join(p for p in out if isinstance(p, str))
    calls = [p for p in out if isinstance(p, ToolCall)]
    assert content == "Sure <b>!done"
    assert [c.name for c in calls] == ["a"] and json.loads(calls[0].arguments) == {"s": "<tool_call> inside"}
    # Text that might open a call is never released early.
    assert all("<tool_c" not in p for p in out if isinstance(p, str))


def test_prime_consumes_a_prefill():
    stream = ToolCallStream()
    stream.prime("<tool_call>\n")
    out = stream.feed('{"name": "a", "arguments": {}}')
    out += stream.finish(True)
    assert [type(p).__name__ for p in out] == ["ToolCall"] and stream.content == ""


def test_text_assembler_utf8_and_stop_strings():
    text = TextAssembler(["STOP", "</end>"])
    data = "héllo wörld ST".encode()
    pieces = [text.feed(data[i:i + 1]) for i in range(len(data))]
    assert "".join(pieces) == "héllo wörld "  # "ST" is held: it may become STOP
    assert text.feed(b"OP and more") == "" and text.stopped_by == "STOP"
    assert text.text == "héllo wörld "
    loose = TextAssembler(["STOP"])
    assert loose.feed(b"ST") == "" and loose.feed(b"ACK") == "STACK"
    split = TextAssembler()
    euro = "€".encode()
    assert split.feed(euro[:2]) == "" and split.feed(euro[2:]) == "€"
    tail = TextAssembler()
    assert tail.feed(euro[:1]) == "" and tail.finish() == "\ufffd"


def _logits(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_greedy_and_exact_logprobs():
    logits = _logits([1.0, 3.0, 2.0, -1.0])
    sample = Sampler(SamplingParams(temperature=0.0, n_probs=2)).sample(logits)
    lse = math.log(sum(math.exp(v) for v in logits))
    assert sample.token == 1
    assert sample.logprob == pytest.approx(3.0 - lse, abs=1e-6)
    assert [t for t, _ in sample.top] == [1, 2]
    assert sample.top[1][1] == pytest.approx(2.0 - lse, abs=1e-6)


def test_logprobs_are_under_the_temperature_before_truncation():
    logits = _logits([0.0, 1.0, 4.0, 2.0])
    params = SamplingParams(temperature=2.0, top_k=1, top_p=1.0, min_p=0.0, seed=3)
    sample = Sampler(params).sample(logits)
    scaled = [v / 2.0 for v in logits]
    lse = math.log(sum(math.exp(v) for v in scaled))
    assert sample.token == 2  # top_k=1 leaves one candidate
    assert sample.logprob == pytest.approx(scaled[2] - lse, abs=1e-6)  # not 0.0: before truncation


def test_seeded_sampling_repeats_and_follows_the_distribution():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=5000).astype(np.float32) * 3
    params = SamplingParams(temperature=1.0, top_k=0, top_p=0.9, min_p=0.0, seed=42)
    first = [Sampler(params).sample(logits).token for _ in range(3)]
    assert len(set(first)) == 1  # same seed, same draw
    many = Sampler(SamplingParams(temperature=1.0, top_k=0, top_p=0.5, min_p=0.0, seed=1))
    order = np.argsort(-logits)
    probs = np.exp(logits[order] - logits[order][0])
    probs /= probs.sum()
    nucleus = set(order[: int(np.searchsorted(np.cumsum(probs), 0.5) + 1)].tolist())
    draws = [many.sample(logits, want_logprob=False).token for _ in range(200)]
    assert set(draws) <= nucleus and len(set(draws)) > 1


def test_penalties_change_what_is_picked():
    logits = _logits([5.0, 4.9, 1.0])
    plain = Sampler(SamplingParams(temperature=0.0), history=[0, 0])
    assert plain.sample(logits).token == 0
    repeat = Sampler(SamplingParams(temperature=0.0, repeat_penalty=1.5), history=[0])
    assert repeat.sample(logits).token == 1
    presence = Sampler(SamplingParams(temperature=0.0, presence_penalty=0.5), history=[0])
    assert presence.sample(logits).token == 1
    window = Sampler(SamplingParams(temperature=0.0, repeat_penalty=1.5, repeat_last_n=1), history=[0, 2])
    assert window.sample(logits).token == 0  # token 0 fell out of the one-token window


def test_generation_fields_in_each_dialect():
    defaults = SamplingParams()
    chat = generation({"temperature": 0, "repetition_penalty": 1.05, "max_completion_tokens": 7, "seed": 4,
                       "logprobs": True, "top_logprobs": 3, "stop": "END", "return_token_ids": True,
                       "stream": True, "stream_options": {"include_usage": True}}, defaults, "chat")
    assert (chat.params.temperature, chat.params.repeat_penalty, chat.params.seed) == (0.0, 1.05, 4)
    assert (chat.max_tokens, chat.logprobs, chat.params.n_probs, chat.stop) == (7, True, 3, ["END"])
    assert chat.return_token_ids and chat.stream and chat.include_usage
    both = generation({"repeat_penalty": 1.2, "repetition_penalty": 1.05}, defaults, "chat")
    assert both.params.repeat_penalty == 1.2  # llama.cpp's own name wins
    llama = generation({"n_predict": -1, "n_probs": 2, "return_tokens": True}, defaults, "llama")
    assert llama.max_tokens == DEFAULT_MAX_TOKENS and llama.params.n_probs == 2 and llama.return_token_ids
    legacy = generation({"logprobs": 2, "max_tokens": 3}, defaults, "completions")
    assert legacy.logprobs and legacy.params.n_probs == 2 and legacy.max_tokens == 3
    assert generation({}, defaults, "chat").max_tokens == DEFAULT_MAX_TOKENS


@pytest.mark.parametrize("body, field", [
    ({"temperature": "hot"}, "temperature"), ({"top_p": 1.5}, "top_p"), ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 2.5}, "max_tokens"), ({"stop": [1]}, "stop"), ({"n": 2}, "n"), ({"logprobs": "yes"}, "logprobs"),
    ({"top_logprobs": 3}, "top_logprobs"), ({"stream": 1}, "stream"), ({"seed": True}, "seed"),
])
def test_bad_fields_are_400_naming_the_field(body, field):
    with pytest.raises(HTTPError) as info:
        generation(body, SamplingParams(), "chat")
    assert info.value.status == 400 and f"'{field}'" in info.value.message
