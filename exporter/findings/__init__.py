"""GuardDuty-format findings: what detections assert, built, stored and aggregated."""
