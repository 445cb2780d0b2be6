"""Teachers and generation: the Teacher seam (``base``), backends (symbolic, OpenAI,
Anthropic, vLLM, transformers), the one runner around them (``runner``: limits,
retries, cache, budgets) and plan-to-records generation (``generate``)."""
