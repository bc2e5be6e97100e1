"""Talking to Label Studio: a local server in its own virtual environment, the client (projects,
tasks, snapshots, with retries that never duplicate a task), span specs resolved to results, and
review tasks for disagreements.

May import: every layer up to ``pipeline``.
"""
