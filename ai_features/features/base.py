"""What an AI feature is: one `Feature`, declared once in its own module of `catalog/`. Its
route, its schema, its place in `GET /ai/api/features/` and its metered call all come from it
(design section 12). A feature module imports this one and nothing of another feature's."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from ai_features.features.provider import Completion

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": False}


# The 200 answer of every feature; each adds its own `result`. (No docstring: the schema would
# show it on every answer.)
class FeatureAnswerSerializer(serializers.Serializer):
    feature = serializers.CharField()
    credits_charged = serializers.DecimalField(**MONEY)
    balance = serializers.DecimalField(**MONEY)
    transaction_id = serializers.IntegerField()
    tokens_used = serializers.IntegerField()


@dataclass(frozen=True)
class Feature:
    """One AI feature. Its price is the `AIFeaturePrice` row whose `feature` is `code`, added
    by a data migration; without an active row the feature answers 403 `feature_disabled`."""

    code: str  # the price row's, the usage row's and the answer's `feature`
    name: str  # as `GET /ai/api/features/` shows it
    slug: str  # its endpoint: POST /ai/api/features/<slug>/, URL name feature-<slug>
    order: int  # its place in `GET /ai/api/features/`, the first added first
    input_serializer: type[serializers.Serializer]  # the request body
    result_serializer: type[serializers.Serializer]  # the answer's `result`
    system_prompt: str  # fixed: nothing the user sends is ever placed in it
    user_message: Callable[[dict], dict]  # the validated body -> the user message's JSON object
    result_from: Callable[[Completion], dict]  # the provider's answer -> `result`, or
    # `UnusableAnswer` (502, nothing charged) when it cannot be used
    json_schema: dict | None = None  # a JSON answer asked for (`response_format`); None: text
    example: OpenApiExample | None = None  # a request body for the schema

    def messages_for(self, data: dict) -> list[dict]:
        """The chat messages: the fixed system prompt, and the user's fields as data only."""
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": json.dumps(self.user_message(data), ensure_ascii=False)},
        ]

    @property
    def url_name(self) -> str:
        return f"feature-{self.slug}"

    @cached_property
    def output_serializer(self) -> type[serializers.Serializer]:
        """The 200 answer: the common fields and this feature's `result`."""
        name = "".join(part.title() for part in self.code.split("_")) + "OutputSerializer"
        return type(name, (FeatureAnswerSerializer,), {"result": self.result_serializer()})
