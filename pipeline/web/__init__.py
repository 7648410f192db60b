"""``credcheck serve``: a read-only web app over the published database.

``create_app(db_path)`` builds the Starlette app (pages and JSON endpoints, docs/web.md);
``serve`` runs it under uvicorn.
"""

from __future__ import annotations

from pathlib import Path


def serve(
    db_path: Path, host: str = "127.0.0.1", port: int = 8000, access_log: bool = True
) -> None:
    """Serve the app until interrupted (Ctrl-C)."""
    import uvicorn

    from pipeline.web.app import create_app

    uvicorn.run(
        create_app(db_path),
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
        server_header=False,
    )
