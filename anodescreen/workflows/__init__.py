"""The campaign core: the spec, its plan, the stages and their one runner, the funnel, the harvest of
result rows, the calculation job, and per-workflow jobflow Makers."""
