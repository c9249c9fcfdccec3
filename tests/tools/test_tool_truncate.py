"""Head-and-tail truncation of tool output."""

import re

from swerve.tools.truncate import truncate

MARKER = re.compile(r"\[\.\.\. (\d+) lines \((\d+) chars\) omitted \.\.\.\]\n")


def split(result: str) -> tuple[str, int, int, str]:
    m = MARKER.search(result)
    assert m, result[:200]
    return result[: m.start()], int(m.group(1)), int(m.group(2)), result[m.end() :]


def test_text_within_limits_is_unchanged():
    text = "".join(f"line {i}\n" for i in range(100))
    assert truncate(text, max_chars=10_000, max_lines=100) == text
    assert truncate("") == ""


def test_too_many_lines_keeps_head_and_tail_and_counts_what_is_gone():
    lines = [f"line {i}\n" for i in range(5000)]
    text = "".join(lines)
    head, n_lines, n_chars, tail = split(truncate(text, max_chars=1_000_000, max_lines=100))
    assert head == "".join(lines[:50])
    assert tail == "".join(lines[-50:])
    assert n_lines == 4900
    assert n_chars == len(text) - len(head) - len(tail)


def test_too_many_chars_cuts_at_line_ends_within_budget():
    text = "".join(f"{i:05d} " + "x" * 94 + "\n" for i in range(1000))  # 100 chars a line
    out = truncate(text, max_chars=2_000, max_lines=10_000)
    head, n_lines, n_chars, tail = split(out)
    assert len(head) + len(tail) <= 2_000
    assert head.endswith("\n") and text.startswith(head)
    assert text.endswith(tail) and tail.startswith("00")
    assert n_chars == len(text) - len(head) - len(tail)
    assert n_lines == text.count("\n") - head.count("\n") - tail.count("\n")


def test_one_huge_line_is_cut_inside():
    text = "a" * 50_000 + "b" * 50_000
    head, n_lines, n_chars, tail = split(truncate(text, max_chars=1_000))
    assert head == "a" * 500 + "\n"  # the marker goes on its own line
    assert tail == "b" * 500
    assert n_lines == 1
    assert n_chars == 99_000


def test_a_cut_over_an_earlier_cut_counts_everything_omitted():
    from swerve.sandbox.output import OutputBuffer

    line = "0123456789" * 5 + "\n"  # 51 chars
    total = 100_000
    buffer = OutputBuffer(20_000)
    buffer.write((line * total).encode())  # the command's buffer keeps 20,000 bytes of 5.1 MB
    out = truncate(buffer.text(), 5_000, 1_000)
    m = re.search(r"\[\.\.\. (\d+)\+ lines \((\d+) chars\) omitted \.\.\.\]", out)
    assert m is not None, out[:300]
    shown = len(out) - len(m.group(0)) - 1
    assert abs(int(m.group(2)) - (len(line) * total - shown)) <= 2  # separators the cuts add
