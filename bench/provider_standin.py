"""A stand-in LLM provider for the HTTP benches: `POST /v1/chat/completions`, answered after a
fixed delay with a real-shaped chat completion.

    .venv/bin/python bench/provider_standin.py [--delay 5] [--port 0]

It prints `port N` once it listens on 127.0.0.1, then serves until killed. The answers are the
ones the sandbox gives `make run` (sandbox/openai/standin.py): plain text for product
description, a `{"summary", "segment", "recommendations"}` JSON object when the request asks for
JSON (customer insight), with a realistic `usage`. The delay stands for a provider thinking; any
number of calls can wait through it at once.

A real provider's CPU is not on our machine, but this one shares the bench machine's cores with
the server, PostgreSQL and the load generator, so what it spends is taken from the figures. It is
therefore one asyncio loop (no thread per connection) that reads only what an answer needs and
keeps the answer to a request body it has already seen (the benches send a few bodies, over and
over): about a tenth of the CPU of `http.server`. It speaks HTTP/1.1 with keep-alive, as
providers do, so the SDK reuses its pooled connections.
"""

import argparse
import asyncio
import contextlib
import json
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.openai.standin import StandInError, completion_for  # noqa: E402

PATH = b"/v1/chat/completions"
MAX_HEAD = 64 * 1024
REMEMBERED = 64  # distinct request bodies whose answers are kept
REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 429: b"Too Many Requests"}


def answer_for(path: bytes, body: bytes) -> tuple[int, bytes]:
    if path != PATH:
        return 404, json.dumps({"error": {"message": "not found", "type": "invalid_request_error"}})
    try:
        return 200, json.dumps(completion_for(json.loads(body)))
    except ValueError:
        return 400, json.dumps({"error": {"message": "bad JSON", "type": "invalid_request"}})
    except StandInError as exc:
        return exc.status, json.dumps(exc.body)


def http_answer(status: int, text: str) -> bytes:
    data = text.encode()
    reason = REASONS.get(status, b"Error")
    head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % (status, reason, len(data)) + data


class Provider(asyncio.Protocol):
    delay = 0.0
    answers: dict[tuple[bytes, bytes], bytes] = {}

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        sock = transport.get_extra_info("socket")
        # Answers leave in one write, but a delayed ACK must never hold one back.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while not self.transport.is_closing():
            self.buffer = self.buffer.lstrip(b"\r\n")  # stray line ends between requests
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self.transport.close()
                return
            head = self.buffer[:end].split(b"\r\n")
            fields = {}
            for line in head[1:]:
                name, _, value = line.partition(b":")
                fields[name.strip().lower()] = value.strip()
            request_line = head[0].split(b" ")
            length = fields.get(b"content-length", b"0")
            if len(request_line) != 3 or not length.isdigit() or b"transfer-encoding" in fields:
                # Not what an SDK sends (it always gives the body's length): refuse and hang up.
                self.transport.write(http_answer(400, '{"error": {"message": "bad request"}}'))
                self.transport.close()
                return
            if len(self.buffer) < end + 4 + int(length):
                return  # the rest of the body is still on its way
            body = self.buffer[end + 4 : end + 4 + int(length)]
            self.buffer = self.buffer[end + 4 + int(length) :]
            closing = fields.get(b"connection", b"").lower() == b"close"
            self.respond(request_line[1], body, closing)

    def respond(self, path: bytes, body: bytes, closing: bool) -> None:
        key = (path, body)
        answer = self.answers.get(key)
        if answer is None:
            answer = http_answer(*answer_for(path, body))
            if len(self.answers) >= REMEMBERED:
                self.answers.clear()
            self.answers[key] = answer
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self.send, answer, closing)
        else:
            self.send(answer, closing)

    def send(self, answer: bytes, closing: bool) -> None:
        if not self.transport.is_closing():
            self.transport.write(answer)
            if closing:
                self.transport.close()


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Provider, "127.0.0.1", port, backlog=128)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=5.0, help="seconds per answer (default 5)")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    args = parser.parse_args()
    Provider.delay = args.delay
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
