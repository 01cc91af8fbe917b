"""Set-based ingestion: any set of landed unit × quarter (and agreement) files in one run."""
