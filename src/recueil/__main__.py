"""``python -m recueil``: the command line, as the ``recueil`` script runs it."""

from .cli import run

run()
