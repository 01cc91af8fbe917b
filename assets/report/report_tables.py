"""Report-table assets (indicators, settlement): filled in by the indicators work (issue 4)."""


def build_report_table_assets() -> list:
    return []
