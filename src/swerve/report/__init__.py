"""Reports people look at: one self-contained HTML page per run, with a trajectory viewer."""
