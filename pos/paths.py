"""The URL prefixes pos treats apart, each defined once, with why (tests: test_paths.py)."""

# The token-authenticated APIs: they answer JSON to a token and never read the session, the
# session's user or a flash message, so pos.web_only skips those middleware here. The admin,
# the schema and its docs page (/api/, a page a browser opens) and every other path keep them.
TOKEN_API_PREFIXES = ("/ai/api/", "/accounts/api/")

# Where an unknown URL or a server error answers in the API's JSON error shape rather than
# Django's HTML page (pos.views): the token APIs, and /api/ (the schema and Swagger UI), whose
# clients are the API's own. Everything else (the admin, the sandbox, the demo) keeps Django's.
JSON_ERROR_PREFIXES = (*TOKEN_API_PREFIXES, "/api/")
