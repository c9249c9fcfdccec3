"""Test utilities shipped with swerve: scripted loopback model servers speaking the OpenAI and
Anthropic streaming protocols (``openai_server``, ``anthropic_server``). Import the submodules
directly; this package imports nothing heavy."""
