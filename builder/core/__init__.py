"""One task's annotations → one document: offsets (UTF-16 and code points), merging regions,
choices and relations, adjudicating several annotators, split assignment, article-id digests, and
the task views (sentences, tokens, IOB2 tags) as Arrow tables.

May import: the root modules, ``contracts``, ``io`` and ``quality``.
"""
