"""Tests for the G90 Cloud integration."""
