"""Raw layer: landing files as received (text), with lineage, personal data removed."""
