"""Staging layer: typed, validated rows (quarantined rows kept aside with their reasons)."""
