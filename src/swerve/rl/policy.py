"""The trainer side on plain torch: a transformers causal LM (the embedded GGUF loads with
``gguf_file=``), the log-probability of each response token under it, and one GRPO step.

torch and transformers are imported only here, lazily (``pip install 'swerve[rl]'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swerve.rl.samples import Sample, SampleError


@dataclass
class Policy:
    """A causal LM and where it came from."""

    model: Any  # transformers PreTrainedModel
    source: str
    vocab_size: int
    gguf: bool = False  # dequantized from a GGUF file


def load_policy(path: str | Path, *, dtype: str = "float32") -> Policy:
    """A transformers causal LM from a model folder, or a ``.gguf`` file (dequantized)."""
    try:
        import torch
        from transformers import AutoModelForCausalLM
    except ImportError as exc:
        raise SampleError(
            f"the trainer side needs torch and transformers: pip install 'swerve[rl]' ({exc})"
        ) from exc
    path = Path(path).expanduser()
    if not path.exists():
        raise SampleError(f"no model at {path}")
    kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
    source, gguf = str(path), path.suffix == ".gguf"
    if gguf:
        kwargs["gguf_file"] = path.name
        path = path.parent
    model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    model.eval()
    return Policy(model, source, int(model.config.vocab_size), gguf)


def check_ids(policy: Policy, samples: list[Sample]) -> None:
    """SampleError when a sample holds ids outside the model's vocabulary (another tokenizer)."""
    top = max((max(s.prompt_ids + s.response_ids, default=0) for s in samples), default=0)
    if top >= policy.vocab_size:
        raise SampleError(
            f"the model at {policy.source} does not match the served model: a sample holds token id"
            f" {top}, and the model's vocabulary has {policy.vocab_size}"
        )


def response_logprobs(policy: Policy, samples: list[Sample], temperature: float = 1.0) -> list[Any]:
    """log p(token | prefix) of each sample's response tokens (1-D tensors, with grad when enabled),
    from the logits divided by ``temperature`` as the sampler did (none when it sampled greedily).
    One right-padded batch; the vocabulary projection runs on the response positions only."""
    import torch

    seqs = [s.prompt_ids + s.response_ids for s in samples]
    width = max(len(q) for q in seqs)
    ids = torch.tensor([q + [0] * (width - len(q)) for q in seqs])
    attention = torch.tensor([[1] * len(q) + [0] * (width - len(q)) for q in seqs])
    hidden = policy.model.model(input_ids=ids, attention_mask=attention).last_hidden_state
    out = []
    for row, sample in enumerate(samples):
        start = len(sample.prompt_ids) - 1
        logits = policy.model.lm_head(hidden[row, start : start + len(sample.response_ids)]).float()
        if temperature > 0:
            logits = logits / temperature
        chosen = torch.tensor(sample.response_ids).unsqueeze(1)
        out.append(torch.log_softmax(logits, dim=-1).gather(1, chosen).squeeze(1))
    return out


def masked_mean(values: Any, mask: list[int]) -> Any:
    import torch

    weights = torch.tensor(mask, dtype=values.dtype)
    return (values * weights).sum() / weights.sum().clamp(min=1.0)


def grpo_step(policy: Policy, samples: list[Sample], lr: float = 1e-5, temperature: float = 1.0) -> float:
    """One policy-gradient step on ``samples``: loss = -mean_i(A_i * mean of logp over the masked
    response tokens of i), plain SGD over every parameter. Returns the loss."""
    import torch

    trained = [s for s in samples if s.advantage != 0.0 and any(s.response_mask)]
    if not trained:
        raise SampleError("no sample has both an advantage and a generated token to learn from")
    check_ids(policy, trained)
    policy.model.train()
    policy.model.zero_grad(set_to_none=True)
    logps = response_logprobs(policy, trained, temperature)
    loss = -sum(s.advantage * masked_mean(lp, s.response_mask) for s, lp in zip(trained, logps, strict=True))
    loss = loss / len(trained)
    loss.backward()
    total = float(loss.detach())
    with torch.no_grad():
        for param in policy.model.parameters():
            if param.grad is not None:
                param -= lr * param.grad
    policy.model.zero_grad(set_to_none=True)
    policy.model.eval()
    return total


def mean_logprobs(policy: Policy, samples: list[Sample], temperature: float = 1.0) -> list[float]:
    """The mean log-probability of each sample's masked response tokens (no grad)."""
    import torch

    with torch.no_grad():
        logps = response_logprobs(policy, samples, temperature)
        return [float(masked_mean(lp, s.response_mask)) for s, lp in zip(samples, logps, strict=True)]
