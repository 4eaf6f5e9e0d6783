"""Detections: signature rules and threat lists (percolator), behaviour (aggregations)."""
