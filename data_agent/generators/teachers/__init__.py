"""The Teacher seam (``base``) and its backends: OpenAI and any OpenAI-compatible
server, Anthropic, in-process vLLM, local transformers (``hf``) and the offline
symbolic teacher. ``common`` holds what the SDK backends share, ``prices`` the
price table, and ``specs`` is the one table of backend kinds."""
