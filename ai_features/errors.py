from pos.errors import DomainError, NotFound


class InsufficientCredits(DomainError):
    status_code = 402
    code = "insufficient_credits"
    default_detail = "Not enough AI credits. Buy more credits to continue."


class CreditsExpired(DomainError):
    status_code = 402
    code = "credits_expired"
    default_detail = "Your AI credits have expired. Buy more credits to continue."


class InvalidAmount(DomainError):
    code = "invalid_amount"
    default_detail = "The amount must be positive, with at most two decimal places."


class UnknownFeature(DomainError):
    code = "unknown_feature"
    default_detail = "No price is set for this AI feature."


class UnknownPackage(DomainError):
    code = "unknown_package"
    default_detail = "No active package with that code."


class InvalidCustomAmount(DomainError):
    code = "invalid_custom_amount"
    default_detail = "custom_amount must be between 10.00 and 10000.00."


class CallbackUrlNotAllowed(DomainError):
    code = "callback_url_not_allowed"
    default_detail = "callback_url must point at an allowed host (PAYMENT_CALLBACK_ALLOWED_HOSTS)."


class AlertNotFound(NotFound):
    code = "alert_not_found"
    default_detail = "No alert with that id for this business."
