"""GuardDuty filters: saved views (``NOOP``) and suppression rules (``ARCHIVE``).

``model`` validates a filter against ``schema.json`` and the finding attributes' types,
``compile`` turns its ``findingCriteria`` into a structured OpenSearch query, ``store`` keeps
filters in ``duskwatch-filters`` (ARCHIVE filters as percolator queries), and ``suppressor``
marks incoming findings that a suppression rule archives, before they are written.
"""
