"""The embedded local OpenSearch node: provisioned from Maven Central, run unprivileged."""
