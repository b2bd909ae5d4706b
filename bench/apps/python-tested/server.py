"""A greeting service whose tests run during the image build (pytest and ruff)."""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def greeting(name: str) -> dict[str, str]:
    return {"service": "python-tested", "greeting": f"hello, {name or 'world'}"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(greeting(self.path.strip("/")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("python-tested listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
