"""Export: a durable outbox per destination, and the destinations findings are delivered to."""
