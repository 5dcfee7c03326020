from django.apps import AppConfig


class DemoSpaConfig(AppConfig):
    """A static demo page for buying and spending AI credits through the public REST API."""

    name = "demo_spa"
    verbose_name = "Demo credits page"
