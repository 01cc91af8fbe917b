"""Staging assets (validation): filled in by the validation work (issue 3)."""

import dagster as dg


def build_staging_assets(unit_quarter: dg.PartitionsDefinition, unit: dg.PartitionsDefinition) -> list:
    return []
