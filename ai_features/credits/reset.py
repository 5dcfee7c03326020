"""Deleting all AI-credit data (`setup_ai_credits --reset`), for a test or staging database."""

from collections import Counter
from graphlib import TopologicalSorter

from django.apps import apps
from django.db import transaction

from ai_features.models import AIFeaturePrice, CreditPackage

# Configuration, seeded by migrations and edited in the admin: a reset keeps it.
KEPT = (CreditPackage, AIFeaturePrice)


def reset_models() -> list:
    """Every ai_features model but the configuration, each before the models its foreign keys
    point at, so no PROTECT refuses a delete. Taken from the app, so a new model is included;
    models free to go at the same step go by name, so the order is the same every run."""
    models = [m for m in apps.get_app_config("ai_features").get_models() if m not in KEPT]
    waits_for = {model: set() for model in models}
    for model in models:
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target in waits_for and target is not model:
                waits_for[target].add(model)
    sorter = TopologicalSorter(waits_for)
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda model: model._meta.label)
        order += ready
        sorter.done(*ready)
    return order


@transaction.atomic
def ai_data_reset() -> dict[str, int]:
    """Delete every row of every AI-credit table but the configuration; rows deleted per table."""
    models = reset_models()
    deleted: Counter = Counter()
    for model in models:
        _, per_model = model._base_manager.all().delete()
        deleted.update(per_model)
    return {str(m._meta.verbose_name_plural): deleted[m._meta.label] for m in models}
