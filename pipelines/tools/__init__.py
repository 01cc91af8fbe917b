"""Tools on top of the code location: the `cus` CLI, the SQL shell, the run driver, provider
templates and the sample-data generator."""
