"""A stand-in LLM provider for the HTTP benches: `POST /v1/chat/completions`, answered after a
fixed delay with a real-shaped chat completion.

    .venv/bin/python bench/provider_standin.py [--delay 5] [--port 0]

It prints `port N` once it listens on 127.0.0.1, then serves until killed. The answers are the
ones the sandbox gives `make run` (paystack_sandbox/openai_standin.py): plain text for product
description, a `{"summary", "segment", "recommendations"}` JSON object when the request asks for
JSON (customer insight), with a realistic `usage`. The delay stands for a provider thinking; a
thread per connection sleeps through it, so any number of calls can wait at once.
"""

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from paystack_sandbox.openai_standin import StandInError, completion_for  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, as real providers do: the SDK reuses its pooled ones.
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the body would wait for the client's
    # delayed ACK (40 ms on Linux), a stall no real provider adds.
    disable_nagle_algorithm = True
    delay = 0.0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v1/chat/completions":
            self._answer(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        try:
            answer, status = completion_for(json.loads(body)), 200
        except ValueError:
            answer, status = {"error": {"message": "bad JSON", "type": "invalid_request"}}, 400
        except StandInError as exc:
            answer, status = exc.body, exc.status
        time.sleep(self.delay)
        self._answer(status, answer)

    def _answer(self, status: int, answer) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass  # one line per call would cost more than the answer at zero delay


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connections when a burst of calls opens new ones at once.
    request_queue_size = 128


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=5.0, help="seconds per answer (default 5)")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    args = parser.parse_args()
    Handler.delay = args.delay
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
