"""Stage 3, rendering a sheet: Jinja page, WeasyPrint in workers, cache, standalone finishing."""
