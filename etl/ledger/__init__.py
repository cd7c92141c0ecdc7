"""The 台账 of snapshots: manifests, history, canonical tables, diff, folder swaps."""
