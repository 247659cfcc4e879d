"""Operator tools: the SLA report and the commands behind appealctl.py."""
