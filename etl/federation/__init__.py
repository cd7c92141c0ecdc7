"""Federation: one verified province view over many county sites, read from their published files."""
