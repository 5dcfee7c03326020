"""The project's URLs with the demo page mounted, whatever SANDBOX says."""

from django.urls import include, path

from pos import urls as project_urls

handler404 = project_urls.handler404
handler500 = project_urls.handler500

urlpatterns = [
    *(p for p in project_urls.urlpatterns if str(p.pattern) != "demo/"),
    path("demo/", include("demo_spa.urls")),
]
