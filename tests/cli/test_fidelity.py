"""What swerve records is what was sent and sampled, and what it sends is what the server reads:
loopback servers speaking llama.cpp's and vLLM's dialects, driven through the real ``swerve -p``."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import env_for, git_repo, swerve, tc

from swerve.agent.requests import decode, digest
from swerve.config import AgentConfig
from swerve.testing.openai_server import OpenAIScriptServer

XML_CALL = "I'll read it.\n<tool_call>\n<function=read_file>\n<parameter=file_path>\ncalc.py\n</parameter>\n</function>\n</tool_call>\n"
LLAMA_PROPS = {
    "default_generation_settings": {"n_ctx": 32768, "params": {"repeat_penalty": 1.0}},
    "total_slots": 1,
}
LLAMA_MODELS = [{"id": "qwen2.5-coder-0.5b", "owned_by": "llamacpp", "meta": {"n_ctx_train": 32768}}]


def unset_model(env: dict[str, str]) -> dict[str, str]:
    env.pop("OPENAI_MODEL", None)
    return env


def test_the_trajectory_holds_exactly_what_was_sent_and_what_came_back(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([{"text": XML_CALL}, {"text": "It subtracts."}]) as srv:
        done = swerve(
            [
                "-p",
                "what does add do?",
                "--tool-protocol",
                "qwen-xml",
                "--trajectory",
                str(tmp_path / "t.json"),
            ],
            repo,
            env_for(tmp_path / "home", srv.base_url),
        )
        sent = [r.json for r in srv.completions]
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "t.json").read_text())
    rebuilt = decode([t["request"] for t in record["turns"]])
    assert rebuilt == sent and [digest(b) for b in sent] == [t["request"]["sha256"] for t in record["turns"]]
    assert "# Tools" in sent[0]["messages"][0]["content"]  # the XML tools prompt is in the record
    assert record["turns"][0]["raw"] == XML_CALL
    assert sent[1]["messages"][2] == {"role": "assistant", "content": XML_CALL}  # sent back as written


def test_a_llama_cpp_server_gets_its_own_sampling_names_and_is_asked_for_model_and_context(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([{"text": "ok"}], models=LLAMA_MODELS, props=LLAMA_PROPS) as srv:
        done = swerve(
            ["-p", "hi", "--trajectory", str(tmp_path / "t.json")],
            repo,
            unset_model(env_for(tmp_path / "h", srv.base_url)),
        )
        body = srv.completions[0].json
    assert done.returncode == 0, done.stderr
    assert body["model"] == "qwen2.5-coder-0.5b"
    assert body["repeat_penalty"] == 1.05 and "repetition_penalty" not in body  # llama.cpp reads this name
    assert body["max_tokens"] == 4096  # bounded by default, from the context the server runs with
    assert (
        "model qwen2.5-coder-0.5b" in done.stderr and "context window 32768 (n_ctx in /props)" in done.stderr
    )
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["turns"][0]["request"]["fields"]["repeat_penalty"] == 1.05  # the sampling in effect


def test_a_wrong_model_name_on_llama_cpp_is_said(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([{"text": "ok"}], models=LLAMA_MODELS, props=LLAMA_PROPS) as srv:
        done = swerve(
            ["-p", "hi", "--model", "qwen3-coder-480b"], repo, env_for(tmp_path / "h", srv.base_url)
        )
    assert done.returncode == 0
    assert "ignores the model name, so 'qwen3-coder-480b' runs that" in done.stderr


def test_a_vllm_server_gets_repetition_penalty_and_tells_its_context(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    models = [{"id": "Qwen/Qwen2.5-Coder-7B-Instruct", "owned_by": "vllm", "max_model_len": 16384}]
    with OpenAIScriptServer([{"text": "ok"}], models=models) as srv:
        done = swerve(["-p", "hi"], repo, unset_model(env_for(tmp_path / "h", srv.base_url)))
        body = srv.completions[0].json
    assert done.returncode == 0, done.stderr
    assert body["repetition_penalty"] == 1.05 and "repeat_penalty" not in body
    assert "context window 16384 (max_model_len in /models)" in done.stderr


def test_several_served_models_and_none_chosen_is_a_clear_error(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    with OpenAIScriptServer([], models=[{"id": "a"}, {"id": "b"}]) as srv:
        done = swerve(["-p", "hi"], repo, unset_model(env_for(tmp_path / "h", srv.base_url)))
    assert done.returncode == 2 and "serves 2: a, b" in done.stderr


def test_an_empty_reply_after_failed_calls_is_not_a_success(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    script = [
        {"tool_calls": [tc("no_such_tool", x=1)]},
        {"text": ""},
        {"text": ""},
        {"text": ""},
        {"text": ""},
    ]
    with OpenAIScriptServer(script) as srv:
        done = swerve(["-p", "go", "--output-format", "json"], repo, env_for(tmp_path / "h", srv.base_url))
        nudged = [r.json["messages"][-1]["content"] for r in srv.completions[2:]]
    result = json.loads(done.stdout)
    assert done.returncode == 1 and result["exit_reason"] == "empty_reply" and result["is_error"]
    assert all("Your last reply was empty" in n for n in nudged) and len(nudged) == 2


def test_a_reply_cut_at_the_token_limit_is_nudged_then_ended(tmp_path: Path):
    repo = git_repo(tmp_path / "repo")
    script = [{"text": "Let me explain at length", "finish_reason": "length"}] * 3
    with OpenAIScriptServer(script) as srv:
        done = swerve(["-p", "go", "--output-format", "json"], repo, env_for(tmp_path / "h", srv.base_url))
    result = json.loads(done.stdout)
    assert done.returncode == 3 and result["exit_reason"] == "truncated"


def test_the_manifest_records_the_sampling_in_effect():
    described = AgentConfig(model="Qwen/Qwen2.5-Coder-7B-Instruct", sampling={"temperature": 0.2}).describe()
    assert described["sampling"] == {
        "temperature": 0.2,
        "top_p": 0.8,
        "top_k": 20,
        "repetition_penalty": 1.05,
        "max_tokens": 4096,
    }
