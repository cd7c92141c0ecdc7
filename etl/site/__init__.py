"""What the pages show: page data, charts, figure labels, the search index."""
