"""The OpenAI-compatible chat-completions endpoint of the LLM provider's stand-in."""

from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from pos.jsonsafe import json_loads
from sandbox.apps import sandbox_enabled
from sandbox.openai import standin as openai_standin


@csrf_exempt
def openai_chat_completions(request):
    """`POST {AI_PROVIDER_BASE_URL}/chat/completions`, as an OpenAI-compatible server answers."""
    if not sandbox_enabled():
        raise Http404("The sandbox is off.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    bearer = request.headers.get("Authorization", "")
    if not bearer.startswith("Bearer ") or not bearer[len("Bearer ") :].strip():
        return JsonResponse(
            {
                "error": {
                    "message": "You didn't provide an API key.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )
    try:
        return JsonResponse(openai_standin.completion_for(_json_or_none(request)))
    except openai_standin.StandInError as exc:
        if isinstance(exc.body, str):
            return HttpResponse(exc.body, status=exc.status, content_type="text/html")
        return JsonResponse(exc.body, status=exc.status)


def _json_or_none(request):
    try:
        return json_loads(request.body or b"null")  # too deep: a ValueError
    except ValueError:
        return None
