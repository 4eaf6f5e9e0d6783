"""Ingest: payloads → log type → records → ECS documents → bulk into OpenSearch, exactly once."""
