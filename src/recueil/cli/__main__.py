"""``python -m recueil.cli``: the command line, as the ``recueil`` script runs it."""

from recueil.cli.main import run

run()
