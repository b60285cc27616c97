"""recueil: Markdown sheets to print-ready PDFs, collections and editions."""

__version__ = "0.1.0"
