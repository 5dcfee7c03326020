"""Every AI feature, found in `catalog/`: each module there declares one `FEATURE`. Adding a
feature is one module there and one data migration for its price row; nothing else changes."""

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured

from ai_features.features import catalog
from ai_features.features.base import Feature


def features_from(modules: Iterable[ModuleType]) -> dict[str, Feature]:
    """The features the modules declare, by code, in listing order; a module without one, or
    two with the same code or slug, is a configuration error."""
    found: list[Feature] = []
    for module in modules:
        feature = getattr(module, "FEATURE", None)
        if not isinstance(feature, Feature):
            raise ImproperlyConfigured(f"{module.__name__} declares no FEATURE = Feature(...).")
        found.append(feature)
    for field in ("code", "slug"):
        values = [getattr(feature, field) for feature in found]
        if len(set(values)) != len(values):
            raise ImproperlyConfigured(f"Two AI features have the same {field}: {sorted(values)}.")
    return {feature.code: feature for feature in sorted(found, key=lambda f: (f.order, f.code))}


def _catalog_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{catalog.__name__}.{info.name}")
        for info in pkgutil.iter_modules(catalog.__path__)
    ]


FEATURES: dict[str, Feature] = features_from(_catalog_modules())
