"""Feature calls are limited per business (THROTTLE_RATE_AI), however many users it has: each
call costs us a provider request."""

from rest_framework.throttling import SimpleRateThrottle

from accounts.services import business_for_request
from accounts.throttling import CountedInDatabase


class AIFeatureThrottle(CountedInDatabase, SimpleRateThrottle):
    scope = "ai"

    def get_cache_key(self, request, view):
        business = business_for_request(request)
        return self.cache_format % {"scope": self.scope, "ident": business.pk}
