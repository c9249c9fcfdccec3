"""Evaluation: predictions (or agents) in, SWE-bench-compatible reports out."""

from swerve.eval.harness import EvalOptions, Harness

__all__ = ["EvalOptions", "Harness"]
