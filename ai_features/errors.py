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


class AlertNotFound(NotFound):
    code = "alert_not_found"
    default_detail = "No alert with that id for this business."


class FeatureDisabled(DomainError):
    status_code = 403
    code = "feature_disabled"
    default_detail = "This AI feature is turned off."


class ProviderError(DomainError):
    """The AI provider failed us or gave an answer we cannot use; nothing was charged."""

    status_code = 502
    code = "ai_provider_error"
    default_detail = "The AI provider could not complete the request. No credits were taken."


class ProviderTimeout(ProviderError):
    status_code = 504
    code = "ai_provider_timeout"
    default_detail = "The AI provider did not answer in time. No credits were taken."


class ProviderNotConfigured(ProviderError):
    status_code = 503
    code = "ai_provider_not_configured"
    default_detail = "AI features are not configured on this server (no provider key)."
