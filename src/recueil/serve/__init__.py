"""Stage 6, the web face: the catalogue server, its search index, its pages and files."""
