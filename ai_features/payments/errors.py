"""The errors of buying credits: a gateway outage is its own 502/503/504 class, apart from the
client's mistakes."""

from pos.errors import DomainError


class GatewayError(DomainError):
    """The payment gateway failed us: an outage, not the client's fault."""

    status_code = 502
    code = "payment_gateway_error"
    default_detail = "The payment gateway returned an error. Please try again."


class GatewayTimeout(GatewayError):
    status_code = 504
    code = "payment_gateway_timeout"
    default_detail = "The payment gateway did not answer in time. Please try again."


class GatewayNotConfigured(GatewayError):
    status_code = 503
    code = "payment_gateway_not_configured"
    default_detail = "Payments are not configured on this server."


class UnknownPackage(DomainError):
    code = "unknown_package"
    default_detail = "No active package with that code."


class InvalidCustomAmount(DomainError):
    code = "invalid_custom_amount"
    default_detail = "custom_amount must be between 10.00 and 10000.00."


class CallbackUrlNotAllowed(DomainError):
    code = "callback_url_not_allowed"
    default_detail = "callback_url must point at an allowed host (PAYMENT_CALLBACK_ALLOWED_HOSTS)."


class NotSoldThroughStripe(DomainError):
    code = "not_sold_through_stripe"
    default_detail = "This package has no Stripe price, so it is not sold through Stripe."
