"""The tags of Qwen3-Coder's XML tool-call protocol and the limits the parser keeps to."""

from __future__ import annotations

import re

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"
FUNCTION_OPEN = "<function="
FUNCTION_CLOSE = "</function>"
PARAM_OPEN = "<parameter="
PARAM_CLOSE = "</parameter>"

# Text that starts call markup when it appears outside code fences and backticks.
MARKUP = (TOOL_CALL_OPEN, FUNCTION_OPEN, TOOL_CALL_CLOSE, FUNCTION_CLOSE, PARAM_CLOSE)
MARKUP_MAX = max(len(t) for t in MARKUP)
# What may follow a closing tag for it to count as structure rather than value text.
DELIMITERS = (PARAM_OPEN, FUNCTION_CLOSE, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, FUNCTION_OPEN)
# Near misses of ``<parameter=NAME>`` that small models write, read as that tag (a repair):
# ``<parameter>NAME>``, ``<parameter NAME>``, ``<parameter name="NAME">``.
NEAR_PARAM_OPEN = re.compile(r'<parameter(?:>|\s+(?:name\s*=\s*)?"?)([A-Za-z_][\w.\-]*)"?\s*>')
BAD_NAME_CHARS = frozenset("{}<>\"'")
MAX_NAME_CHARS = 200

FORMAT_HINT = (
    "write each call as <tool_call>, then <function=NAME>, then one <parameter=KEY> line, "
    "the value and </parameter> per argument, then </function> and </tool_call>, each on its own line"
)
