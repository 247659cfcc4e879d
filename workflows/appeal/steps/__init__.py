"""The appeal's steps, one module each: its Updates and their validators, its signals, the
clocks it starts, stops or pauses (`RULES`), and its patch markers. Steps use the shared core
(workflows/appeal/core.py) and never each other."""
