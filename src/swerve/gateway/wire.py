"""Reading untrusted request bodies: typed fields with 400s that say what is wrong."""

from __future__ import annotations

from typing import Any

from swerve.httpd import HTTPError
from swerve.models.base import Sampling


def required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise HTTPError(400, f"{key}: a non-empty string is required")
    return value


def required_list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise HTTPError(400, f"{key}: a list is required, not {type(value).__name__}")
    return value


def number(body: dict[str, Any], key: str, *, whole: bool = False) -> Any:
    """A numeric field, or None when absent; a 400 when it is there and not a number."""
    value = body.get(key)
    if value is None:
        return None
    kinds: tuple[type, ...] = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise HTTPError(400, f"{key}: {'a whole number' if whole else 'a number'} is required, not {value!r}")
    return value


def sampling_from(body: dict[str, Any], max_tokens_keys: tuple[str, ...]) -> Sampling:
    """The sampling fields a client set (the first present of ``max_tokens_keys``)."""
    max_tokens = None
    for key in max_tokens_keys:
        max_tokens = number(body, key, whole=True)
        if max_tokens is not None:
            break
    if max_tokens is not None and max_tokens < 1:
        raise HTTPError(400, f"{max_tokens_keys[0]}: must be at least 1, not {max_tokens}")
    return Sampling(
        temperature=number(body, "temperature"),
        top_p=number(body, "top_p"),
        top_k=number(body, "top_k", whole=True),
        max_tokens=max_tokens,
        seed=number(body, "seed", whole=True),
    )


def block_text(content: Any, notes: list[str], where: str) -> str:
    """Text of a content value: a string, or a list of blocks/parts, whose non-text parts
    (images, documents) become a visible placeholder so nothing vanishes unsaid."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise HTTPError(400, f"{where}: content must be a string or a list of blocks")
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif not isinstance(block, dict):
            raise HTTPError(400, f"{where}: a content block must be an object")
        elif isinstance(block.get("text"), str):
            parts.append(block["text"])
        else:
            kind = str(block.get("type", "unknown"))
            parts.append(f"\n[{kind} omitted: the model behind this gateway reads text only]\n")
            notes.append(f"{where}: a {kind} block was replaced by a placeholder")
    return "".join(parts)
