"""Mart assets: filled in by the indicators work (issue 4)."""


def build_mart_assets() -> list:
    return []
