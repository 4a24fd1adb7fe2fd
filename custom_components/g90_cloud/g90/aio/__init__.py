"""The asyncio edge of the protocol: the listener panels connect to, and chaining upstream."""
