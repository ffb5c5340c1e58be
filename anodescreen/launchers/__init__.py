"""Execution targets, one module each; none is imported by the core."""
