"""A fake project tree for launcher tests: real processes, no real subgraph code."""

from __future__ import annotations

from pathlib import Path

#: A stand-in subgraph: answers every GET with 200 and the DATABASE_URL it was given.
FAKE_SUBGRAPH = """
import os, sys, threading, http.server
name = sys.argv[0].split(os.sep)[-2]
port = int(os.environ[name.upper() + "_PORT"])
exit_after = float(os.environ.get("FAKE_EXIT_AFTER", "0"))
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (name + " " + os.environ["DATABASE_URL"]).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
if exit_after:
    threading.Timer(exit_after, lambda: os._exit(3)).start()
print(name, "listening on", port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def make_fake_root(root: Path, subgraphs: tuple[str, ...], *, migrate: str | None = None) -> Path:
    """subgraphs/<name>/__main__.py for each name; db/migrate.py if given."""
    (root / "subgraphs").mkdir(parents=True)
    (root / "subgraphs" / "__init__.py").touch()
    for name in subgraphs:
        (root / "subgraphs" / name).mkdir()
        (root / "subgraphs" / name / "__init__.py").touch()
        (root / "subgraphs" / name / "__main__.py").write_text(FAKE_SUBGRAPH)
    if migrate is not None:
        (root / "db").mkdir()
        (root / "db" / "__init__.py").touch()
        (root / "db" / "migrate.py").write_text(migrate)
    return root
