"""The `ied-workflow` command line."""
