"""Tests of the asyncio listener over real loopback sockets."""
