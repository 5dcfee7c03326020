"""Input fields for money, quantities and dates (DRF's, and a form field for the admin): their
own, with the one strict reading of each (ai_features.credits.money and .dates) in place of
their loose one. DRF's DecimalField reads `"1_000"` as 1000 and a JSON number through float;
its DateField with `%Y-%m-%d` reads `2026-1-1`."""

import datetime

from django import forms
from rest_framework import serializers

from ai_features.credits.dates import date_parse
from ai_features.credits.money import MONEY_DIGITS, MONEY_PLACES, decimal_parse, money_parse


class StrictDecimalField(serializers.DecimalField):
    """A JSON number or a string of ASCII digits with at most `decimal_places` decimals
    (`decimal_parse`); anything else is a 400, never rounded. Its schema is DecimalField's, and
    min_value/max_value work as there."""

    default_error_messages = {
        "invalid": "Write a number, or a string of digits, with at most {places} decimal places "
        '(10, 10.5, "10.00").',
    }

    def __init__(self, *, max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_internal_value(self, data):
        try:
            return decimal_parse(data, places=self.decimal_places, max_digits=self.max_digits)
        except ValueError:
            self.fail("invalid", places=self.decimal_places)


class MoneyField(StrictDecimalField):
    """Money or credits: two places, Decimal(12, 2)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)


class StrictDateField(serializers.DateField):
    """A date written `YYYY-MM-DD` (`date_parse`); `2026-1-1` and other spellings are a 400."""

    def to_internal_value(self, value):
        if isinstance(value, datetime.datetime):
            self.fail("datetime")
        if isinstance(value, datetime.date):
            return value
        try:
            return date_parse(value)
        except ValueError:
            self.fail("invalid", format="YYYY-MM-DD")


class MoneyFormField(forms.DecimalField):
    """A Django form's money field (the admin's) with `money_parse`'s reading; Django's own
    reads `1_000` and Arabic-Indic digits as numbers. Spaces around the amount are dropped, as
    a form's fields do."""

    default_error_messages = {
        "invalid": "Write a number with at most 2 decimal places (10, 10.5 or 10.00).",
    }

    def __init__(self, **kwargs):
        super().__init__(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return money_parse(str(value).strip())
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
