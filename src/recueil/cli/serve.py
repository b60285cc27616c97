"""``recueil serve``: the web catalogue of a project (search, sheets, selections, collections).

Local mode (the default) listens on 127.0.0.1 and shows the project's problems; ``--public``
is the visitor's view, meant to run behind a reverse proxy (README, "Deployment").
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from recueil.cli.common import _open, project_option


@click.command()
@project_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public",
    is_flag=True,
    help="Visitor's view: no diagnostics, no sheet with errors, no file paths.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the project and its cache.",
)
@click.option(
    "--jobs",
    "-j",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Render workers of each server process (sheets and selections made on request).",
)
@click.option(
    "--queue",
    default=8,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Renders that may wait for a worker; beyond, the answer is 503 with Retry-After.",
)
@click.option(
    "--idle",
    "idle_seconds",
    default=60,
    show_default=True,
    type=click.IntRange(1, 86400),
    help="Seconds without a render after which render workers beyond the first stop.",
)
def serve(
    project_dir: Path,
    host: str,
    port: int,
    public: bool,
    workers: int,
    jobs: int,
    queue: int,
    idle_seconds: int,
) -> None:
    """Serve the project's catalogue on the web (Ctrl-C to stop)."""
    import uvicorn

    project, _ = _open(project_dir)
    os.environ.update(
        RECUEIL_PROJECT=str(project.root),
        RECUEIL_PUBLIC="1" if public else "0",
        RECUEIL_JOBS=str(jobs),
        RECUEIL_QUEUE=str(queue),
        RECUEIL_IDLE_SECONDS=str(idle_seconds),
    )
    mode = "public" if public else "local"
    click.echo(f"recueil: {mode} catalogue of {project.root} on http://{host}:{port}/", err=True)
    uvicorn.run(
        "recueil.serve.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=public,
        server_header=False,
        log_level="warning",
        access_log=False,  # one line per request costs even when the level hides it
    )
