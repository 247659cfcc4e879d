"""The appeal workflow, as a package: the workflow class, its one state, the shared core, the
journal, the SLA supervisor, the texts, and one module per step (steps/)."""

from workflows.appeal.workflow import AppealWorkflow

__all__ = ["AppealWorkflow"]
