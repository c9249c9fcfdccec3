"""Evaluation: predictions (or agents) in, SWE-bench-compatible reports out: the harness, its
sandboxes by name (``sandboxes``), SWE-bench's own images, validation and reports. Imports
``tasks`` and ``sandbox``."""

from swerve.eval.harness import EvalOptions, Harness

__all__ = ["EvalOptions", "Harness"]
