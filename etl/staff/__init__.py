"""What staff see around a publish: progress while it runs, a preview before it goes live, a summary when it ends."""
