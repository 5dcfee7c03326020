from pos.errors import DomainError


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
