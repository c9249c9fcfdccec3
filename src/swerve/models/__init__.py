"""Models: the Model protocol (``base``), OpenAI chat and Anthropic messages streaming, the
Qwen3-Coder XML tool protocol (``qwen_xml``), argument repair, retries, replay models and the
factory that builds one from settings. Imports only the base modules (``errors``, ``secrets``).
"""
