"""The domain core: data contract, unit registry, quarters, money rules, PESEL and pseudonyms,
project paths, settings and the warehouse connection. Imports no other project package
(enforced by import-linter, see pyproject.toml)."""
