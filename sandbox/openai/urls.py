from django.urls import path

from sandbox.openai import views

# Mounted at /sandbox/openai/v1/: the SDK appends `/chat/completions` to its base URL.
urlpatterns = [
    path("chat/completions", views.openai_chat_completions, name="openai-chat-completions"),
]
