"""The one runner around every teacher: concurrency, rate limits, retries,
circuit breaker, response cache, budgets and cost meter, and the sessions the
loop and the LLM engineer use."""
