"""Stage 2, text: a sheet's Markdown body to sanitised HTML, and French typography on every text."""
