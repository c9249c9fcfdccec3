"""swerve: an open agentic-coding system."""

__version__ = "0.1.0"
