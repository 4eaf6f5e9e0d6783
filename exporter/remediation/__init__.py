"""Opt-in automatic responses to findings: dry run by default, every action logged and reversible.

- :mod:`~exporter.remediation.actions`: what can be done (a registry: ``block-ip-nacl``,
  ``deactivate-access-key``); each action plans from a finding (pure), executes through an
  injected boto3 client factory, and returns what its undo needs.
- :mod:`~exporter.remediation.log`: the ``duskwatch-remediation`` index, one record per run.
- :mod:`~exporter.remediation.service`: which configured rules match a finding, running them
  (dry run or for real) and undoing a recorded action.
"""
