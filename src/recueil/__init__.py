"""recueil: Markdown sheets to print-ready PDFs, collections and editions."""

__version__ = "0.2.0"
