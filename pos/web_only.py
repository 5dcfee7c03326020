"""Django's session, session-user and message middleware, skipped for the token APIs.

CSRF stays as it is for every path: `check --deploy` wants Django's own class, and DRF's views
are CSRF-exempt, so it costs the APIs little.

A module of its own: pos.middleware is imported while logging is configured, before the apps
are ready, and Django's auth middleware imports models."""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware

from pos.paths import TOKEN_API_PREFIXES


def _is_api(request) -> bool:
    return request.path_info.startswith(TOKEN_API_PREFIXES)


def _web_only(middleware_class):
    """`middleware_class`, skipped for the token-authenticated APIs (TOKEN_API_PREFIXES).

    Those answer JSON to a token (no API reads the session, the session's user or a flash
    message), so sessions, the session user and messages are work without use there. The
    admin and every other path keep them all."""

    class WebOnly(middleware_class):
        def __call__(self, request):
            if _is_api(request):
                return self.get_response(request)
            return super().__call__(request)

        if hasattr(middleware_class, "process_view"):

            def process_view(self, request, callback, callback_args, callback_kwargs):
                if _is_api(request):
                    return None
                return super().process_view(request, callback, callback_args, callback_kwargs)

    WebOnly.__name__ = WebOnly.__qualname__ = f"WebOnly{middleware_class.__name__}"
    return WebOnly


WebOnlySessionMiddleware = _web_only(SessionMiddleware)
WebOnlyAuthenticationMiddleware = _web_only(AuthenticationMiddleware)
WebOnlyMessageMiddleware = _web_only(MessageMiddleware)
