"""data-agent: an LLM data engineer that specializes a small student model for a
domain by engineering its training data, closing the loop through training and
validation.

Library entry points: :func:`data_agent.loop.specialize`, :func:`data_agent.loop.resume`,
:func:`data_agent.api.evaluate`, :func:`data_agent.validators.validate_submission`,
:func:`data_agent.domain.load_domain`, :func:`data_agent.config.load_config`.
"""

__version__ = "0.1.0"
