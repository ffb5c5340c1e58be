"""Execution only, one module per target (local, the stage-by-stage Flow, FireWorks, jobflow-remote,
queues); the stage policy they execute is :class:`anodescreen.workflows.stages.Stages`."""
