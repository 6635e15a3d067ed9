"""Moved to :mod:`contracts.sla` (the pure table contracts); kept so old imports work."""

from contracts.sla import *  # noqa: F401,F403
