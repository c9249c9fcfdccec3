"""The progress line that ``swerve eval`` and ``swerve gym run`` share: figures, rate, ETA, output."""

from __future__ import annotations

import io

from swerve.cli.eval_cmd import Progress as EvalProgress
from swerve.cli.gym_cmd import Display
from swerve.cli.progress import ProgressLine, duration
from swerve.eval.reports import InstanceResult
from swerve.gym.pool import Pool
from swerve.gym.pool import Progress as PoolProgress


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in a shell."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_says_done_running_failed_rate_and_eta() -> None:
    clock = Clock()
    line = ProgressLine(100, stream=io.StringIO(), clock=clock)
    clock.now += 120
    line.update(done=20, earlier=10, running=4, infra=2, extra=["resolved 12"], note="task-7 (tests)")
    text = line.text()
    assert text.startswith("done 30/100 · running 4 · infra errors 2 · resolved 12 · 10.0/min")
    assert "ETA 7m00s" in text, "70 left at 10 a minute; earlier episodes do not count in the rate"
    assert text.endswith("| task-7 (tests)")
    line.update(done=90, earlier=10, running=0, infra=2)
    assert text != line.text() and "in 2m00s" in line.text()


def test_a_terminal_gets_one_line_rewritten_and_a_log_a_line_now_and_then() -> None:
    clock = Clock()
    terminal = Terminal()
    live = ProgressLine(10, stream=terminal, clock=clock)
    for done in range(3):
        live.update(done=done, running=1, infra=0)
        live.show()
    live.finish()
    assert terminal.getvalue().count("\r\033[K") == 3 and terminal.getvalue().endswith("\n")
    log = io.StringIO()
    quiet = ProgressLine(10, stream=log, clock=clock, every_s=5)
    for _ in range(4):
        quiet.show()
        clock.now += 2
    assert log.getvalue().count("\n") == 2, "at most one line every 5 s"


def test_eval_and_gym_print_the_same_line() -> None:
    terminal = Terminal()
    progress = EvalProgress(3, stream=terminal)
    progress("stage", "a", "tests")
    progress("done", "a", InstanceResult("a", "m", "resolved"))
    progress("done", "b", InstanceResult("b", "m", "env_unavailable", cause="no network"))
    eval_line = terminal.getvalue().rsplit("\r\033[K", 1)[-1]
    assert eval_line.startswith("done 2/3 · running 0 · infra errors 1 · resolved 1 · ")
    display = Display(3, stream=Terminal())
    display.pool = Pool(executor=None)  # not run: only its progress figures are read
    display.pool.progress = PoolProgress(planned=3, done=2, running=1, infra_errors=1)
    gym_line = display.line()
    assert gym_line.startswith("done 2/3 · running 1 · infra errors 1 · retries 0 · mean reward ")
    assert "/min" in eval_line and "/min" in gym_line


def test_durations_read_well() -> None:
    assert [duration(s) for s in (0, 42, 208, 7500)] == ["0s", "42s", "3m28s", "2h05m"]
