"""Quarterly report files (HTML, PDF, XLSX): filled in by the reports work (issue 5)."""

import dagster as dg


def build_report_file_assets(by_quarter: dg.PartitionsDefinition) -> list:
    return []


def build_report_schedules(reports_job) -> list:
    return []
