"""Qwen3-Coder's XML tool-call protocol, for endpoints without a server-side tool parser.

The model writes calls as text::

    <tool_call>
    <function=NAME>
    <parameter=KEY>
    value
    </parameter>
    </function>
    </tool_call>

This package renders tool specs and history into that text shape (``render_tools_prompt``,
``render_history``), parses calls out of a reply (``parse_tool_calls``, ``StreamParser``) and wraps
a plain chat model so it speaks the Model protocol with tools (``QwenXMLModel``).

The parser is tolerant of what the model gets wrong in practice: a missing ``<tool_call>`` wrapper,
a missing ``</parameter>``, an unclosed last block, JSON inside ``<tool_call>``, and it ignores
examples inside Markdown code fences or backticks. Tags inside a parameter value (code that
mentions the protocol) only end the value where they make sense structurally; see ``_scan_value``.

Modules: ``tags`` (the protocol's tags), ``render`` (tool specs and history to text), ``scan``
(finding markup outside code), ``parse`` (calls out of a whole reply), ``stream`` (while it
streams), ``model`` (``QwenXMLModel``). Imports only ``models.base``, ``models.arguments`` and
``models.turns``.
"""

from swerve.models.qwen_xml.model import QwenXMLModel
from swerve.models.qwen_xml.parse import ParseResult, parse_reply, parse_tool_calls
from swerve.models.qwen_xml.render import render_call, render_history, render_tools_prompt
from swerve.models.qwen_xml.stream import StreamParser

__all__ = [
    "ParseResult",
    "QwenXMLModel",
    "StreamParser",
    "parse_reply",
    "parse_tool_calls",
    "render_call",
    "render_history",
    "render_tools_prompt",
]
