from pos.errors import DomainError, NotFound


class NoBusiness(DomainError):
    status_code = 403
    code = "no_business"
    default_detail = "Your account does not belong to any business."


class BusinessSelectionRequired(DomainError):
    code = "business_selection_required"
    default_detail = "You belong to several businesses: send the X-Business-ID header to pick one."


class InvalidBusinessId(DomainError):
    code = "invalid_business_id"
    default_detail = "The X-Business-ID header must be a business id (ASCII digits 0-9 only)."


class BusinessNotFound(NotFound):
    code = "business_not_found"
    default_detail = "No business with that id among your memberships."


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    default_detail = "Unable to log in with the given username and password."
