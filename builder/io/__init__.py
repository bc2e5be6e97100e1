"""Reading inputs: raw articles and their cleaning rules, Label Studio JSON exports (streamed task
by task, every problem located by file, line, column and JSON pointer), local or fsspec storage.

May import: the root modules and ``contracts``.
"""
