"""Report layer: report-ready aggregates (tables) and the quarterly report files."""
