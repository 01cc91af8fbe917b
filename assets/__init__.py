"""Dagster assets by warehouse layer: raw -> staging -> mart -> report."""
