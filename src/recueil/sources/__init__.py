"""Stage 1, reading and validating: the project (settings, themes, kinds), sheets, the corpus."""
