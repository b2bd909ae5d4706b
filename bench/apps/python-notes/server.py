"""A tiny notes service: every request counts a visit in data/visits.txt (it must be writable)."""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(os.environ.get("DATA_DIR", "data"))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        DATA.mkdir(parents=True, exist_ok=True)
        visits = DATA / "visits.txt"
        count = int(visits.read_text() or 0) + 1 if visits.exists() else 1
        visits.write_text(str(count))
        body = json.dumps({"service": "python-notes", "visits": count, "uid": os.getuid()})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


def main():
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly on docker stop
    print("python-notes listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
