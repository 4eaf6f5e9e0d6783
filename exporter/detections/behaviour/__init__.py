"""Behaviour detections: scheduled aggregation queries over event time (see :mod:`.model`).

The catalogue modules register their detectors in :data:`DETECTORS` on import.
"""

from exporter.detections.behaviour.catalogue import load_catalogue
from exporter.detections.behaviour.model import DETECTORS, Baseline, Case, Detector, Hit, Window

load_catalogue()

__all__ = ["DETECTORS", "Baseline", "Case", "Detector", "Hit", "Window"]
