"""The AI feature endpoints, from the registry: the listing, and one route per feature at
`features/<slug>/`, named `feature-<slug>`."""

from django.urls import path

from ai_features.features import views
from ai_features.features.registry import FEATURES

urlpatterns = [
    path("features/", views.features, name="features"),
    *(
        path(f"features/{feature.slug}/", views.feature_view(feature), name=feature.url_name)
        for feature in FEATURES.values()
    ),
]
