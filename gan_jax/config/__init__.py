"""Settings: their schemas (`schemas`), range checks (`checks`) and `validate.validate(cfg)`.

Numeric settings are read in the step through `gan_jax.numeric_settings.number`, which lives
outside this package: `schemas` imports model and mitigation constants, so models and
mitigations must not import this package back.
"""
