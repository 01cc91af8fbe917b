"""Dagster code location of the CUS settlement pipeline (definitions, resources, jobs, registry)."""
