"""The domain error base class. One handler (pos.exception_handler) maps these to HTTP."""


class DomainError(Exception):
    """A business-rule failure the client can act on; carries its HTTP status and code."""

    status_code = 400
    code = "error"
    default_detail = "The request could not be completed."

    def __init__(self, detail: str | None = None, *, code: str | None = None, **extra):
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        # Further fields for the answer body, beside detail and code (e.g. a 402's balance).
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_detail = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_detail = "The request conflicts with the current state."


class RequestTooLarge(DomainError):
    status_code = 413
    code = "request_too_large"
    default_detail = "The request body is larger than 1 MB."


class DatabaseUnavailable(DomainError):
    """The database cannot be reached (down, restarting, refusing connections): a client may
    try again shortly (pos.database)."""

    status_code = 503
    code = "database_unavailable"
    default_detail = "The service is briefly unavailable. Try again in a few seconds."
    retry_after_seconds = 5
