# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    migrate, create the demo business, print its token, serve on 127.0.0.1:8000
#               (`make run PORT=8001 HOST=…`: elsewhere; the sandboxes' URLs follow)
#   make test   lint, format check, and the test suite (`make test PYTEST_ARGS="e2e -x"`: pytest's)
#   make serve  production serving: gunicorn, DEBUG off (needs DJANGO_SECRET_KEY, DATABASE_URL)
#   make manage ARGS="setup_ai_credits --list-businesses"   any management command, on the
#               database make run uses, with DEBUG on (no DJANGO_SECRET_KEY needed)
# and, for the project's own PostgreSQL server (below):
#   make psql      psql on its database (`make psql SQL="SELECT ..."` runs one statement)
#   make db-stop   stop it (the data stays in .pgdata/)
#   make db-reset  stop it, delete its data and start it afresh
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

WORKERS ?= 3
# Threads per worker: an AI feature call waits seconds on the provider, and a thread waiting on
# it must not keep the worker from serving a balance read meanwhile.
THREADS ?= 8

.PHONY: run serve test lint venv psql manage db-start db-stop db-reset

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# The database. With no DATABASE_URL (not in the environment, not on the command line, not in
# .env), `make run`, `make test` and `make psql` use the project's own PostgreSQL server
# (scripts/devdb, from the pinned wheel in requirements-dev.txt): started once and shared by all
# of them, its data kept in .pgdata/ between runs, reached over a Unix socket only. Nothing here
# stops it but `make db-stop` and `make db-reset`. `make serve` never uses it: with DEBUG off the
# settings refuse to start without a DATABASE_URL.
DEVDB := $(BIN)/python scripts/devdb
ifeq ($(origin DATABASE_URL),undefined)
ifeq ($(shell grep -sE '^[[:space:]]*(export[[:space:]]+)?DATABASE_URL[[:space:]]*=' .env),)
OWN_DB := true
DB_START := db-start
run test psql manage: export DATABASE_URL := $(shell $(PYTHON) scripts/devdb url)
endif
endif

db-start: venv
	@echo "PostgreSQL: the project's own, at $$($(DEVDB) start) (make db-stop stops it)"

db-stop: venv
	$(DEVDB) stop

db-reset: venv
	$(DEVDB) reset

# psql with the wheel's client: on the project's own server without PG* from the environment,
# or through `manage.py dbshell` on DATABASE_URL's.
psql: venv $(DB_START)
ifeq ($(OWN_DB),true)
	$(DEVDB) psql $(if $(SQL),-c "$$SQL")
else
	PATH="$$($(DEVDB) bindir):$$PATH" DEBUG="$${DEBUG:-true}" $(BIN)/python manage.py dbshell \
		$(if $(SQL),-- -c "$$SQL")
endif

# The development server runs with DEBUG on unless the environment says otherwise. With
# SANDBOX=true (the default) Paystack is the local sandbox at /sandbox/paystack/, the AI provider
# is the stand-in at /sandbox/openai/v1 and the demo page is at /demo/; `make run SANDBOX=false`
# uses PAYSTACK_* and AI_PROVIDER_* from the environment or .env instead.
SANDBOX ?= true
run: export DEBUG ?= true
run: export SECURE_SSL ?= false
ifeq ($(SANDBOX),true)
run: export SANDBOX := true
run: export PAYSTACK_SECRET_KEY := sk_test_sandbox_local_only
run: export PAYSTACK_PUBLIC_KEY := pk_test_sandbox_local_only
run: export PAYSTACK_BASE_URL := http://$(HOST):$(PORT)/sandbox/paystack
run: export PAYSTACK_SANDBOX_WEBHOOK_URL := http://$(HOST):$(PORT)/ai/api/webhooks/paystack/
run: export STRIPE_SECRET_KEY := sk_test_sandbox_local_only
run: export STRIPE_WEBHOOK_SECRET := whsec_sandbox_local_only
run: export STRIPE_API_BASE := http://$(HOST):$(PORT)/sandbox/stripe
run: export STRIPE_SANDBOX_WEBHOOK_URL := http://$(HOST):$(PORT)/ai/api/webhooks/stripe/
run: export FRONTEND_URL := http://$(HOST):$(PORT)/demo
run: export PAYMENT_CALLBACK_ALLOWED_HOSTS := $(HOST),localhost
run: export CORS_ALLOWED_ORIGINS := http://$(HOST):$(PORT),http://localhost:$(PORT)
endif
# The AI provider follows SANDBOX unless told apart: `make run AI_SANDBOX=false` keeps the Paystack
# sandbox but uses AI_PROVIDER_* from the environment or .env (OpenAI, Ollama, llama.cpp).
AI_SANDBOX ?= $(SANDBOX)
ifeq ($(AI_SANDBOX),true)
run: export AI_PROVIDER_BASE_URL := http://$(HOST):$(PORT)/sandbox/openai/v1
run: export AI_PROVIDER_API_KEY := sk-sandbox-local-only
endif
run: venv $(DB_START)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo --base-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# A management command on the database `make run` uses (the project's own server, or DATABASE_URL),
# with DEBUG on unless the environment says otherwise, so no DJANGO_SECRET_KEY is needed locally:
# `make manage ARGS="setup_ai_credits --grant-value --business-id 1"`.
manage: export DEBUG ?= true
manage: venv $(DB_START)
	$(BIN)/python manage.py $(ARGS)

# Settings refuse to start without DJANGO_SECRET_KEY when DEBUG is off (set it, or put it in .env).
# FORWARDED_ALLOW_IPS: the load balancers whose X-Forwarded-Proto gunicorn and Django believe;
# set it in the environment or on the command line (`make serve FORWARDED_ALLOW_IPS=10.0.0.0/8`).
FORWARDED_ALLOW_IPS ?= 127.0.0.1
serve: export DEBUG := false
serve: export SANDBOX := false
serve: export FORWARDED_ALLOW_IPS := $(FORWARDED_ALLOW_IPS)
serve: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn pos.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
		--worker-class gthread --threads $(THREADS) --timeout 30 --graceful-timeout 20 \
		--forwarded-allow-ips '$(FORWARDED_ALLOW_IPS)'

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(DB_START)
	$(BIN)/pytest $(PYTEST_ARGS)
