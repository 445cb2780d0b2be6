"""Answer contracts, one module per task kind."""
