"""Reading sources: files, formats, HTTP, adapters and cell values."""
