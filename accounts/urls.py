from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/register/", views.register, name="auth-register"),
    path("auth/token/", views.token, name="auth-token"),
    path("auth/logout/", views.logout, name="auth-logout"),
    path("me/", views.me, name="me"),
]
