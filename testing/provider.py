"""The LLM provider for unit tests: the published payloads of ../shared/openai/fixtures, served
to the real `openai` SDK through an httpx MockTransport."""

import json
import threading
from pathlib import Path

from django.conf import settings

OPENAI_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "openai" / "fixtures"


def openai_json(name: str):
    """A published OpenAI payload from ../shared/openai/fixtures."""
    return json.loads((OPENAI_FIXTURES / name).read_bytes())


class ProviderMock:
    """The LLM provider's HTTP side, served to the real `openai` SDK through an httpx
    MockTransport: queued answers first, then a completion saying `text` (or `json_text` when
    JSON was asked for)."""

    def __init__(self):
        self.requests = []
        self.queue = []
        self.text = "A fine product, described."
        self.json_text = json.dumps(
            {"summary": "Buys often.", "segment": "regular", "recommendations": ["Say thanks"]}
        )
        self._lock = threading.Lock()

    def completion(self, content, *, fixture="chat_completion.success.json", **choice):
        body = openai_json(fixture)
        body["choices"][0]["message"]["content"] = content
        body["choices"][0].update(choice)
        return body

    def then(self, *answers):
        """Queue answers: a dict (a 200 completion body), an (HTTP status, body) pair, an
        httpx2.Response, or an exception for the transport to raise."""
        self.queue.extend(answers)

    def handler(self, request):
        import httpx2

        with self._lock:
            self.requests.append(request)
            answer = self.queue.pop(0) if self.queue else None
        if answer is None:
            wants_json = "response_format" in json.loads(request.content)
            answer = self.completion(self.json_text if wants_json else self.text)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, httpx2.Response):
            return answer
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        if isinstance(body, bytes | str):
            return httpx2.Response(status, content=body, headers={"content-type": "text/html"})
        return httpx2.Response(status, json=body, headers={"x-request-id": "req_standin_1"})

    def sent(self, index=-1) -> dict:
        """The JSON body of a request the SDK sent."""
        return json.loads(self.requests[index].content)
