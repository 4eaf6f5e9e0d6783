"""``python -m exporter`` runs the ``duskwatch`` command."""

from exporter.cli import main

main()
