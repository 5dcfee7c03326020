from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/api/", include("accounts.urls")),
    path("ai/api/", include("ai_features.urls")),
]
