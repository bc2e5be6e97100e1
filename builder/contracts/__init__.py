"""What the data must look like: the JSON Schemas in ``schema/`` (loaded and checked here), the
label sets and the shipped labeling config (``labels``), and the release's ``datasets.Features``.

May import: the root modules (``errors``, ``records``, ``version``) only.
"""
