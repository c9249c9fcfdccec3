"""Task generation from any Python project: bugs its own tests catch, validated, in SWE-bench form.

Shared with the built-in suite: ``mutate`` (AST bug operators), ``runner`` (a suite run read back
per test), ``core`` (baseline, judging a candidate), ``statement`` (problem statements from failing
tests), ``gitops`` (reproducible commits). The pipeline for any sdist or local repository is
``project`` (finding code, tests and dependencies), ``pipeline`` and ``dataset``; ``swerve tasks
generate`` is its face.
"""
