"""The project's error types. A :class:`DataAgentError` is user-facing: the CLI
prints its message on one line and exits non-zero, without a traceback."""


class DataAgentError(Exception):
    """Base class for errors caused by input or configuration, not by a bug."""
