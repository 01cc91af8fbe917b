"""Mart layer: facts and dimensions across quarters, rebuilt set-based from staging."""
