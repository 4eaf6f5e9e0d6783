"""The OpenSearch edge: client, bootstrap of templates and indices, health checks."""
