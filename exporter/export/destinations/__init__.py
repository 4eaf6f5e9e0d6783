"""One module per destination type; importing :func:`load_destination_types` registers them."""

from __future__ import annotations

import importlib
import pkgutil


def load_destination_types() -> None:
    """Import every module of this package (each registers its destination type)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
