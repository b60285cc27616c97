"""The command line: a thin layer over the stages below it, which never print or exit."""

from recueil.cli.main import run

__all__ = ["run"]
