"""The local stand-ins `make preflight` and `make smoke` are tested against, reached through the
SDK's standard endpoint variables: moto_server (STS, CloudFormation, DynamoDB, SNS, KMS,
EventBridge), the Partner Central emulator, and — moto has no Lambda GetAccountSettings — a
Lambda account-settings stand-in answering that one operation as Lambda's REST API does."""

import http.server
import json
import os
import pathlib
import socket
import subprocess
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
EMULATOR_BIN = pathlib.Path(os.environ.get("EMULATOR_BIN", TARGET / "debug" / "partnercentral-local"))
MOTO_SERVER_BIN = pathlib.Path(os.environ.get("MOTO_SERVER_BIN", ROOT / ".venv" / "bin" / "moto_server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([str(MOTO_SERVER_BIN), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server ({MOTO_SERVER_BIN}) did not start")
                time.sleep(0.1)  # polling a server's start-up, not synchronising a test

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=5)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Emulator:
    def __init__(self):
        if not EMULATOR_BIN.exists():
            raise RuntimeError(f"{EMULATOR_BIN} not built: run `cargo build --workspace --bins` first")
        self.proc = subprocess.Popen([str(EMULATOR_BIN), "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("partnercentral-local listening on "):
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = "http://" + line.rsplit(" ", 1)[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class LambdaAccountSettings:
    """GET /2016-08-19/account-settings: {"AccountLimit": {...}, "AccountUsage": {...}}."""

    def __init__(self, concurrent=1000, unreserved=1000):
        self.concurrent, self.unreserved = concurrent, unreserved
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.rstrip("/") != "/2016-08-19/account-settings":
                    self.send_response(404)
                    self.end_headers()
                    return
                body = json.dumps({
                    "AccountLimit": {"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
                                     "CodeSizeZipped": 52428800, "ConcurrentExecutions": outer.concurrent,
                                     "UnreservedConcurrentExecutions": outer.unreserved},
                    "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
