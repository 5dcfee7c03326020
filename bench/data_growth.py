"""Benchmark: the shop-facing reads of a business with a million rows of history, against those of a
typical business, on a database that holds 10,000 typical ones as well (issue 21, item 5).

    .venv/bin/python bench/data_growth.py [--scale 1.0] [--repeat 9] [--no-build]

It rebuilds its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bench_data_growth), runs `make serve`'s manage.py steps
(migrate, collectstatic) and then builds the data in SQL (INSERT ... SELECT over
generate_series, through psycopg2):

- 10,000 typical businesses, each with an owner user, its membership and API token, one active
  balance row, a few purchases (some failed) and 100 feature calls (`ai_transactions`) with the
  ledger entries they made;
- one large business, with its owner and 4 staff users, 1,000,000 feature calls, about as many
  ledger entries and the purchases that paid for them.

Every constraint holds (the ledger's sign per kind and `balance_after >= 0`, purchase total =
base + tax, one active balance row per business, reserve within held), and so does the ledger
check: each balance equals the sum of its ledger amounts and the balance after its latest entry
(by id). History runs over the last 3 years up to now, ids in the order of time across all
businesses; calls are mostly completed, 2% released (failed, success=false), in the two features,
by the owner (and, in the large business, its staff), with `gpt-4o-mini` token counts and costs.
Each business tops up at least every 150 days, so no balance has expired. The two big tables'
foreign keys and secondary indexes are dropped while they fill and made again from the
catalogue's own definitions (each foreign key checked in one query). At full scale the build
takes about a minute, the rollup below a few more. `--scale` shrinks the number of typical
businesses and the large business's calls alike (`--scale 0.01`: 100 typical
businesses and a large one of 10,000 calls, in seconds).

Then it runs `manage.py rollup_ai_usage` (the nightly rollup) and VACUUM (ANALYZE), as a
database that has lived with these rows would be, and serves the app as `make serve` does
(gunicorn gthread, DEBUG off). Each request is timed over HTTP with the owner's token, on a new
connection as nginx sends it, `--repeat` times (9) for the typical business and the large one in
turn after a warm-up, and the table gives the medians: balance, the first and the deepest page of
transactions/ and of ledger/ (the deepest read by a cursor made for it: its page is the oldest 20
rows), usage/summary/ over all time by feature and by user, usage/daily/ over 366 days (the most it
allows: a year ago to today), and the first page of purchases/. Its last line is

    worst large/typical ratio: R

over those requests. A second table times the ops commands (not held to 50 ms) in process, with
call_command in one `manage.py shell` (median of 3, connection already open), and as a whole
`manage.py` subprocess (once, Django's start included). Before both it prints the machine, the
row counts and how long each step of the build took.

Not a test: nothing here asserts a speed. It exits non-zero if a request does not answer 200 as
expected, the ledger check fails or the bench runs past `--time-limit`. `--no-build` times the
database as the last run left it, without rebuilding it.
"""

import argparse
import base64
import http.client
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
from serving import (
    BALANCE_PATH,
    PYTHON,
    ROOT,
    Processes,
    free_port,
    machine,
    manage,
    recreate_database,
    run,
    send,
    serve_plan,
    server_env,
    server_errors,
)

BENCH_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_data_growth"
)
TYPICAL_BUSINESSES = 10_000
LARGE_TRANSACTIONS = 1_000_000
STAFF = 4  # the large business's users besides its owner
HISTORY_DAYS = 3 * 365
TOP_UP_DAYS = 150  # at most this long between top-ups: under AI_CREDIT_EXPIRY_DAYS
# The settings' defaults, which server_env leaves in force (it drops AI_* from the environment).
EXPIRY_DAYS = 180
LOW_BALANCE = 10
TIME_ZONE = ZoneInfo("Africa/Accra")
RELEASED = 0.02  # of the calls: failed, their hold returned
FAILED_PURCHASES = 0.08  # of the top-ups: preceded by a checkout left unpaid
CUSTOM_CREDITS = 2000  # what the large business buys at a time (a custom amount)
PAGE = 20  # the lists' default limit
OPS_REPEAT = 3
ROLLUP_TIMEOUT = 1800  # seconds: its first run reads every call of the 3 years
API = "/ai/api/credits"

# The build, step by step, each statement run by psycopg2 with the parameters of `params()`.
# pg_temp.u(k, s): a uniform draw in [0, 1) that depends on (k, s) only, so a build is the
# same every time and a row's draws agree wherever they are read.
BUILD = [
    (
        "plan",
        """
        CREATE FUNCTION pg_temp.u(k bigint, s bigint) RETURNS float8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT (hashint8extended(k, s) & 9007199254740991)::float8 / 9007199254740992 $$;

        -- One row a business: its history's start, its calls, and what it buys. Business 1 is
        -- the large one; the typical ones opened one after the other over the 3 years (the
        -- last a month ago). A business tops up at least every TOP_UP_DAYS, and often enough
        -- that its credits always cover its calls (see `topups`).
        CREATE TEMP TABLE plan AS
        WITH b AS (
            SELECT id AS business_id, id = 1 AS large,
                CASE WHEN id = 1 THEN %(large_calls)s ELSE %(typical_calls)s END AS calls,
                CASE WHEN id = 1 THEN %(start)s
                    ELSE %(start)s + ((id - 2)::float8 / greatest(%(typical)s, 1))
                        * make_interval(days => %(history_days)s - 30)
                END AS start_at,
                CASE WHEN id = 1 THEN 'custom'
                    WHEN pg_temp.u(id, 1) < 0.3 THEN 'starter'
                    WHEN pg_temp.u(id, 1) < 0.8 THEN 'value'
                    ELSE 'premium'
                END AS package
            FROM generate_series(1, %(typical)s + 1) AS id
        ), priced AS (
            SELECT b.*, %(end)s - b.start_at AS span,
                coalesce(p.price, %(custom)s)::numeric(12, 2) AS base,
                coalesce(p.credits, %(custom)s)::numeric(12, 2) AS credits,
                coalesce(p.bonus_credits, 0)::numeric(12, 2) AS bonus
            FROM b LEFT JOIN ai_features_creditpackage AS p ON p.code = b.package
        )
        -- With a top-up every span/P and calls of at most `top_price` each, spread evenly, the
        -- credits bought by any moment cover the calls made by then when
        -- P >= top_price * calls / (credits - top_price).
        SELECT priced.*, greatest(
                ceil(extract(epoch FROM span) / (%(top_up_days)s * 86400.0)),
                ceil(%(top_price)s * calls / (credits + bonus - %(top_price)s))
            )::int AS topups,
            round(base * 0.125, 2) AS vat, round(base * 0.025, 2) AS nhil,
            round(base * 0.025, 2) AS getfund
        FROM priced;
        """,
    ),
    (
        "users, businesses, memberships, tokens, balances",
        """
        -- Owners have the business's id; the large business's staff come after them.
        INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name,
            email, is_staff, is_active, date_joined)
        SELECT business_id, '!' || md5('unusable' || business_id), false,
            CASE WHEN large THEN 'large-owner' ELSE 'owner-' || business_id END, '', '',
            'owner-' || business_id || '@example.com', false, true,
            start_at - interval '10 minutes'
        FROM plan
        UNION ALL
        SELECT %(typical)s + 1 + k, '!' || md5('unusable-staff' || k), false,
            'large-staff-' || k, '', '', 'large-staff-' || k || '@example.com', false, true,
            %(start)s + k * interval '1 day'
        FROM generate_series(1, %(staff)s) AS k;

        INSERT INTO accounts_business (id, name, email, created_at, owner_id)
        SELECT business_id, CASE WHEN large THEN 'Large shop' ELSE 'Shop ' || business_id END,
            'shop-' || business_id || '@example.com', start_at - interval '10 minutes',
            business_id
        FROM plan;

        INSERT INTO accounts_businessmembership (id, role, created_at, business_id, user_id)
        SELECT business_id, 'owner', start_at - interval '10 minutes', business_id, business_id
        FROM plan
        UNION ALL
        SELECT %(typical)s + 1 + k, CASE WHEN k = 1 THEN 'admin' ELSE 'staff' END,
            %(start)s + k * interval '1 day', 1, %(typical)s + 1 + k
        FROM generate_series(1, %(staff)s) AS k;

        INSERT INTO authtoken_token (key, created, user_id)
        SELECT substr(md5(%(salt)s || id) || md5(id || %(salt)s), 1, 40), date_joined, id
        FROM auth_user;

        -- Filled in from the ledger once it is written (balance, top-ups, expiry).
        INSERT INTO business_ai_credits (id, business_id, balance, is_active, updated_at,
            low_balance_alerted, held, clawback_reserved)
        SELECT business_id, business_id, 0, true, start_at, false, 0, 0 FROM plan;
        """,
    ),
    (
        "purchases",
        """
        -- Top-up k of a business is paid (completed) just before its k-th span/P of history
        -- begins; some are preceded by a checkout left unpaid (failed).
        CREATE TEMP TABLE buy AS
        SELECT row_number() OVER (ORDER BY purchased_at, business_id, paid DESC) AS id, *
        FROM (
            SELECT business_id, k, true AS paid, paid_at AS purchased_at,
                paid_at + (40 + 60 * pg_temp.u(business_id * 100000 + k, 2)) * interval '1 second'
                    AS completed_at
            FROM plan, generate_series(0, topups - 1) AS k,
                LATERAL (SELECT start_at + span * (k::float8 / topups) - interval '2 minutes'
                    AS paid_at) AS moment
            UNION ALL
            SELECT business_id, k, false, start_at + span * (k::float8 / topups)
                - interval '25 minutes', NULL
            FROM plan, generate_series(1, topups - 1) AS k
            WHERE pg_temp.u(business_id * 100000 + k, 3) < %(failed_purchases)s
        ) AS attempts;

        INSERT INTO ai_credit_purchases (id, business_id, gateway, user_id, package,
            amount_paid, total_tax, total_amount, currency, credits_purchased, bonus_credits,
            payment_reference, payment_status, payment_method, tax_lines, callback_url,
            authorization_url, access_code, checkout_session_id, payment_intent_id,
            gateway_status, gateway_response, failure_reason, purchased_at, completed_at)
        SELECT buy.id, buy.business_id, 'paystack', plan.business_id, plan.package, plan.base,
            plan.vat + plan.nhil + plan.getfund, plan.base + plan.vat + plan.nhil + plan.getfund,
            'GHS', plan.credits, plan.bonus,
            'AI-CREDIT-' || (extract(epoch FROM buy.purchased_at) * 1000)::bigint || '-'
                || lpad(to_hex(buy.id), 8, '0'),
            CASE WHEN paid THEN 'completed' ELSE 'failed' END,
            CASE WHEN pg_temp.u(buy.id, 4) < 0.7 THEN 'mobile_money' ELSE 'card' END,
            jsonb_build_array(
                jsonb_build_object('name', 'VAT', 'rate', '12.5', 'amount', plan.vat::text),
                jsonb_build_object('name', 'NHIL', 'rate', '2.5', 'amount', plan.nhil::text),
                jsonb_build_object('name', 'GETFund', 'rate', '2.5',
                    'amount', plan.getfund::text)),
            'http://127.0.0.1:8000/demo/payment/callback',
            'https://checkout.paystack.com/' || substr(md5('code' || buy.id), 1, 15),
            substr(md5('code' || buy.id), 1, 15), '', '',
            CASE WHEN paid THEN 'success' ELSE 'abandoned' END,
            CASE WHEN paid THEN jsonb_build_object(
                'status', 'success', 'currency', 'GHS', 'channel', 'mobile_money',
                'amount', ((plan.base + plan.vat + plan.nhil + plan.getfund) * 100)::bigint,
                'paid_at', to_char(buy.completed_at AT TIME ZONE 'UTC',
                    'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'gateway_response', 'Approved')
            END,
            CASE WHEN paid THEN ''
                ELSE 'abandoned: still unpaid 24 hours after checkout started' END,
            buy.purchased_at, buy.completed_at
        FROM buy JOIN plan USING (business_id)
        ORDER BY buy.id;
        """,
    ),
    (
        "transactions",
        """
        -- Call j of a business falls at random within the j-th of `calls` equal slots of its
        -- history; ids follow the time across every business.
        CREATE TEMP TABLE tx AS
        SELECT row_number() OVER (ORDER BY ts, business_id, j) AS id, *
        FROM (
            SELECT business_id, j, draw_key,
                start_at + span * ((j + 0.01 + 0.98 * pg_temp.u(draw_key, 1)) / calls) AS ts,
                CASE WHEN pg_temp.u(draw_key, 2) < 0.7 THEN 'product_description'
                    ELSE 'customer_insight' END AS feature,
                CASE WHEN NOT large OR pg_temp.u(draw_key, 3) < 0.4 THEN business_id
                    ELSE %(typical)s + 2 + floor(pg_temp.u(draw_key, 4) * %(staff)s)::int
                END AS user_id,
                pg_temp.u(draw_key, 5) < %(released)s AS released
            FROM plan, generate_series(0, calls - 1) AS j,
                LATERAL (SELECT business_id * 10000000::bigint + j AS draw_key) AS keyed
        ) AS drawn;

        -- A released call timed out (no answer, no tokens) or was refused (billed tokens).
        INSERT INTO ai_transactions (id, business_id, user_id, feature, credits_used,
            cost_to_us, tokens_used, "timestamp", success, processing_time_ms, error_message,
            status, credits_held, credits_uncharged, settled_at, balance_row_id, model,
            prompt_tokens, completion_tokens, provider_request_id)
        SELECT id, business_id, user_id, feature,
            CASE WHEN released THEN 0 ELSE price END,
            round((prompt * 0.15 + completion * 0.60) / 1000000, 6),
            prompt + completion, ts, NOT released, ms,
            CASE WHEN timeout
                    THEN 'The AI provider did not answer in time. No credits were taken.'
                WHEN released THEN 'The AI provider''s answer could not be used (the model '
                    'refused). No credits were taken.'
                ELSE '' END,
            CASE WHEN released THEN 'released' ELSE 'completed' END,
            price, 0, ts + ms * interval '1 millisecond', business_id,
            CASE WHEN timeout THEN ''
                WHEN pg_temp.u(draw_key, 6) < 0.5 THEN 'gpt-4o-mini'
                ELSE 'gpt-4o-mini-2024-07-18' END,
            prompt, completion,
            CASE WHEN timeout THEN '' ELSE 'req_' || md5('request' || id) END
        FROM (
            SELECT tx.*, fp.credits AS price, timeout,
                CASE WHEN timeout THEN 0
                    WHEN feature = 'product_description'
                        THEN 180 + floor(pg_temp.u(draw_key, 7) * 220)::int
                    ELSE 400 + floor(pg_temp.u(draw_key, 7) * 600)::int END AS prompt,
                CASE WHEN timeout THEN 0
                    ELSE 90 + floor(pg_temp.u(draw_key, 8) * 260)::int END AS completion,
                CASE WHEN timeout THEN 30000 + floor(pg_temp.u(draw_key, 9) * 400)::int
                    ELSE 600 + floor(pg_temp.u(draw_key, 9) * 3400)::int END AS ms
            FROM tx JOIN ai_features_aifeatureprice AS fp USING (feature),
                LATERAL (SELECT released AND pg_temp.u(draw_key, 10) < 0.6 AS timeout) AS t
        ) AS priced
        ORDER BY id;
        """,
    ),
    (
        "ledger",
        """
        -- What each change did, as the app writes it: a purchase's credits once paid, a hold's
        -- debit as the call starts, and a released hold's credits given back.
        CREATE TEMP TABLE led AS
        SELECT row_number() OVER (ORDER BY created_at, business_id, step, ref) AS id, *
        FROM (
            SELECT buy.business_id, buy.completed_at AS created_at, 0 AS step, buy.id AS ref,
                'purchase' AS kind, plan.credits + plan.bonus AS amount,
                buy.id AS purchase_id, NULL::bigint AS usage_id
            FROM buy JOIN plan USING (business_id) WHERE paid
            UNION ALL
            SELECT business_id, "timestamp" + interval '3 milliseconds', 1, id, 'usage',
                -credits_held, NULL, id
            FROM ai_transactions
            UNION ALL
            SELECT business_id, settled_at + interval '2 milliseconds', 2, id, 'usage_release',
                credits_held, NULL, id
            FROM ai_transactions WHERE status = 'released'
        ) AS changes;

        INSERT INTO ai_features_creditledgerentry (id, business_id, kind, amount, balance_after,
            created_at, purchase_id, usage_id, clawback_id)
        SELECT id, business_id, kind, amount,
            sum(amount) OVER (PARTITION BY business_id ORDER BY id), created_at, purchase_id,
            usage_id, NULL
        FROM led
        ORDER BY id;

        UPDATE business_ai_credits AS credit
        SET balance = sums.total, purchased_at = sums.first_top_up,
            last_topped_up_at = sums.last_top_up,
            expires_at = sums.last_top_up + make_interval(days => %(expiry_days)s),
            low_balance_alerted = sums.total < %(low_balance)s, updated_at = sums.last_change
        FROM (
            SELECT business_id, sum(amount) AS total,
                min(created_at) FILTER (WHERE kind = 'purchase') AS first_top_up,
                max(created_at) FILTER (WHERE kind = 'purchase') AS last_top_up,
                max(created_at) AS last_change
            FROM led GROUP BY business_id
        ) AS sums
        WHERE credit.business_id = sums.business_id;

        """,
    ),
]

# The check of issue 21: each balance equals the sum of its ledger and the balance after its
# latest entry (by id); and no balance has expired.
LEDGER_CHECK = """
SELECT count(*) FILTER (WHERE credit.balance <> coalesce(sums.total, 0)),
    count(*) FILTER (WHERE credit.balance <> coalesce(latest.balance_after, 0)),
    count(*) FILTER (WHERE credit.expires_at <= now())
FROM business_ai_credits AS credit
LEFT JOIN (
    SELECT business_id, sum(amount) AS total FROM ai_features_creditledgerentry GROUP BY 1
) AS sums USING (business_id)
LEFT JOIN LATERAL (
    SELECT balance_after FROM ai_features_creditledgerentry AS entry
    WHERE entry.business_id = credit.business_id ORDER BY id DESC LIMIT 1
) AS latest ON true
WHERE credit.is_active
"""

# The tables whose ids the build gave: their sequences go on from there.
SEQUENCED = [
    "auth_user",
    "accounts_business",
    "accounts_businessmembership",
    "business_ai_credits",
    "ai_credit_purchases",
    "ai_transactions",
    "ai_features_creditledgerentry",
]

COUNTED = [
    ("businesses", "accounts_business"),
    ("users", "auth_user"),
    ("memberships", "accounts_businessmembership"),
    ("tokens", "authtoken_token"),
    ("balance rows", "business_ai_credits"),
    ("purchases", "ai_credit_purchases"),
    ("transactions", "ai_transactions"),
    ("ledger entries", "ai_features_creditledgerentry"),
]


def params(scale: float, typical_calls: int, top_price, now: datetime) -> dict:
    end = now - timedelta(minutes=1)
    return {
        "typical": max(1, round(TYPICAL_BUSINESSES * scale)),
        "large_calls": max(PAGE + 1, round(LARGE_TRANSACTIONS * scale)),
        "typical_calls": typical_calls,
        "staff": STAFF,
        "history_days": HISTORY_DAYS,
        "start": end - timedelta(days=HISTORY_DAYS),
        "end": end,
        "top_up_days": TOP_UP_DAYS,
        "top_price": top_price,
        "custom": CUSTOM_CREDITS,
        "released": RELEASED,
        "failed_purchases": FAILED_PURCHASES,
        "expiry_days": EXPIRY_DAYS,
        "low_balance": LOW_BALANCE,
        "salt": os.urandom(8).hex(),
    }


# The two big tables' foreign keys and secondary indexes, read from the catalogue as the
# migrations made them: dropped before they are filled and made again after, which checks each
# foreign key in one query and builds each index in one pass instead of row by row.
BULK_TABLES = ["ai_transactions", "ai_features_creditledgerentry"]
DEFERRED = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
    format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname,
        pg_get_constraintdef(oid))
FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY (%(tables)s)
UNION ALL
SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
FROM pg_index
WHERE indrelid::regclass::text = ANY (%(tables)s) AND NOT indisprimary
    AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)
"""


def indexes_dropped(cursor) -> list[str]:
    """Drop BULK_TABLES' foreign keys and secondary indexes; the statements that make them again."""
    cursor.execute(DEFERRED.replace("%s", "%%s").replace("%I", "%%I"), {"tables": BULK_TABLES})
    found = cursor.fetchall()
    for drop, _ in found:
        cursor.execute(drop)
    return [make for _, make in found]


def build(url: str, scale: float, typical_calls: int) -> list[tuple[str, float]]:
    """Fill the migrated database; the seconds each step took."""
    connection = psycopg2.connect(url)
    steps = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '30min'")
            cursor.execute("SET work_mem = '256MB'")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")  # a bench database: speed over a crash
            cursor.execute("SELECT max(credits) FROM ai_features_aifeatureprice")
            (top_price,) = cursor.fetchone()
            values = params(scale, typical_calls, top_price, datetime.now(UTC))
            for name, sql in BUILD:
                if name == "transactions":
                    restore = indexes_dropped(cursor)
                started = time.perf_counter()
                cursor.execute(sql, values)
                connection.commit()
                steps.append((name, time.perf_counter() - started))
            started = time.perf_counter()
            for statement in restore:
                cursor.execute(statement)
            connection.commit()
            steps.append(("indexes, foreign keys", time.perf_counter() - started))
            for table in SEQUENCED:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
                )
            connection.commit()
            cursor.execute(LEDGER_CHECK)
            by_sum, by_latest, expired = cursor.fetchone()
    finally:
        connection.close()
    if by_sum or by_latest or expired:
        raise RuntimeError(
            f"the built ledger fails its check: {by_sum} balance(s) off their ledger sum, "
            f"{by_latest} off their latest entry, {expired} expired"
        )
    return steps


def vacuum_analyze(url: str) -> float:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '30min'")
            cursor.execute("VACUUM (ANALYZE)")
    finally:
        connection.close()
    return time.perf_counter() - started


def cursor_for(values: list) -> str:
    """A `next` cursor as pos.pagination encodes it: the page after it starts past `values`."""
    raw = json.dumps({"d": "next", "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def facts(url: str) -> dict:
    """From the database: the two businesses timed, their tokens and deepest cursors, and the
    row counts."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM accounts_business")
            (businesses,) = cursor.fetchone()
            # The large business is 1; the typical one opened halfway through the history.
            chosen = {"typical": 2 + (businesses - 1) // 2, "large": 1}
            found = {"counts": {}, "businesses": {}}
            for label, table in COUNTED:
                cursor.execute(f"SELECT count(*) FROM {table}")
                (found["counts"][label],) = cursor.fetchone()
            for kind, business in chosen.items():
                cursor.execute(
                    "SELECT key FROM authtoken_token JOIN accounts_business "
                    "ON owner_id = user_id WHERE accounts_business.id = %s",
                    (business,),
                )
                (token,) = cursor.fetchone()
                # The row a cursor must point past for the page after it to be the oldest 20.
                cursor.execute(
                    'SELECT "timestamp", id FROM ai_transactions WHERE business_id = %s '
                    'ORDER BY "timestamp", id OFFSET %s LIMIT 1',
                    (business, PAGE),
                )
                moment, transaction = cursor.fetchone()
                cursor.execute(
                    "SELECT id FROM ai_features_creditledgerentry WHERE business_id = %s "
                    "ORDER BY id OFFSET %s LIMIT 1",
                    (business, PAGE),
                )
                (entry,) = cursor.fetchone()
                rows = {}
                for label, table in (
                    ("transactions", "ai_transactions"),
                    ("ledger entries", "ai_features_creditledgerentry"),
                    ("purchases", "ai_credit_purchases"),
                ):
                    cursor.execute(
                        f"SELECT count(*) FROM {table} WHERE business_id = %s", (business,)
                    )
                    (rows[label],) = cursor.fetchone()
                found["businesses"][kind] = {
                    "id": business,
                    "token": token,
                    "transactions_cursor": cursor_for([moment.isoformat(), transaction]),
                    "ledger_cursor": cursor_for([entry]),
                    "rows": rows,
                }
    finally:
        connection.close()
    return found


def requests_timed(today: date) -> list[tuple[str, object]]:
    """(label, path or a function of the business's facts giving it), in the table's order."""
    year_ago = today - timedelta(days=365)  # 366 days, today included: the most daily/ allows
    return [
        ("GET balance/", BALANCE_PATH),
        ("GET transactions/ first page", f"{API}/transactions/"),
        (
            "GET transactions/ deepest cursor page",
            lambda b: f"{API}/transactions/?cursor={b['transactions_cursor']}",
        ),
        ("GET ledger/ first page", f"{API}/ledger/"),
        ("GET ledger/ deepest cursor page", lambda b: f"{API}/ledger/?cursor={b['ledger_cursor']}"),
        ("GET usage/summary/ (all time)", f"{API}/usage/summary/"),
        ("GET usage/summary/?by=user", f"{API}/usage/summary/?by=user"),
        ("GET usage/daily/ 366 days", f"{API}/usage/daily/?from={year_ago}&to={today}"),
        ("GET purchases/ first page", f"{API}/purchases/"),
    ]


def fetch(port: int, path: str, token: str) -> tuple[int, object]:
    """One request, its status and its JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(body)
    except ValueError:
        return response.status, body[:300]


def answer_checked(label: str, status: int, answer) -> str:
    """What the first answer of a request says, or raise if it is not what was asked for."""
    if status != 200:
        raise RuntimeError(f"{label} answered {status}: {answer}")
    if "deepest" in label:
        if len(answer["results"]) != PAGE or answer["next_cursor"] is not None:
            raise RuntimeError(
                f"{label}: {len(answer['results'])} rows, next_cursor {answer['next_cursor']!r}:"
                " not the last page"
            )
        return f"{PAGE} rows, the oldest; next_cursor null"
    if isinstance(answer, dict) and "count" in answer:
        capped = " (capped)" if answer.get("count_capped") else ""
        return f"count {answer['count']}{capped}, {len(answer['results'])} rows"
    if isinstance(answer, dict) and "totals" in answer:
        groups = answer.get("features", answer.get("users", []))
        return f"{len(groups)} rows, {answer['totals']['requests']} requests"
    if isinstance(answer, list):
        return f"{len(answer)} days, {sum(day['requests'] for day in answer)} requests"
    return f"balance {answer.get('balance')}"


def timed(port: int, businesses: dict, today: date, repeat: int) -> list[tuple]:
    """(label, typical ms, large ms, what the large answer said) per request: medians."""
    rows = []
    for label, path in requests_timed(today):
        paths = {
            kind: path(facts_) if callable(path) else path for kind, facts_ in businesses.items()
        }
        said = {}
        for kind, facts_ in businesses.items():
            said[kind] = answer_checked(label, *fetch(port, paths[kind], facts_["token"]))
        seconds = {kind: [] for kind in businesses}
        for _ in range(repeat):  # in turn, so a drift in the machine's load weighs on both
            for kind, facts_ in businesses.items():
                status, elapsed = send(port, "GET", paths[kind], facts_["token"])
                if status != 200:
                    raise RuntimeError(f"{label} answered {status} for the {kind} business")
                seconds[kind].append(elapsed)
        typical, large = (statistics.median(seconds[kind]) * 1000 for kind in ("typical", "large"))
        rows.append((label, typical, large, said["typical"], said["large"]))
    return rows


def start_server(processes: Processes, env: dict, gunicorn: list[str], token: str) -> int:
    port = int(gunicorn[gunicorn.index("--bind") + 1].rsplit(":", 1)[1])
    print("server:", shlex.join(gunicorn))
    server = processes.start("server", gunicorn, env=env)
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline and server.poll() is None:
        try:
            status, _ = send(port, "GET", BALANCE_PATH, token, timeout=5)
            if status == 200:
                return port
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"the server did not answer the balance with 200 (last status {status}):\n"
        f"{processes.log('server')[-3000:]}"
    )


# Run in one `manage.py shell`: each command by call_command, OPS_REPEAT times, on an open
# connection; its seconds and its output's first and last lines, as one JSON line.
OPS_SNIPPET = """
import io, json, time
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
connection.ensure_connection()
args = {args!r}
seconds, text, failed = [], "", None
for _ in range({repeat}):
    out = io.StringIO()
    started = time.perf_counter()
    try:
        call_command(*args, stdout=out, stderr=out)
    except CommandError as exc:
        failed = str(exc)
    seconds.append(time.perf_counter() - started)
    text = out.getvalue()
lines = text.strip().splitlines() or [""]
print("OPS " + json.dumps({{"seconds": seconds, "first": lines[0], "last": lines[-1],
    "lines": len(lines), "failed": failed}}))
"""


def ops_timed(env: dict, args: list[str], repeat: int) -> dict:
    """A command timed in process (median of `repeat`) and as a whole subprocess (once)."""
    done = manage(env, "shell", "-c", OPS_SNIPPET.format(args=args, repeat=repeat), check=False)
    line = next((li for li in done.stdout.splitlines() if li.startswith("OPS ")), None)
    if line is None:
        raise RuntimeError(f"{shlex.join(args)} could not be timed:\n{done.stdout}{done.stderr}")
    found = json.loads(line[4:])
    started = time.perf_counter()
    whole = run([PYTHON, "manage.py", *args], env, check=False)
    found["subprocess"] = time.perf_counter() - started
    found["exit"] = whole.returncode
    return found


def rollup(env: dict) -> str:
    """Run the nightly rollup, if this tree has it yet; what happened."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own manage.py); no 300 s bound: 2M rows take minutes
        [PYTHON, "manage.py", "rollup_ai_usage"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=ROLLUP_TIMEOUT,
    )
    elapsed = time.perf_counter() - started
    said = (done.stdout + done.stderr).strip()
    if done.returncode and "Unknown command" in said:
        return "skipped: this tree has no rollup_ai_usage command yet"
    if done.returncode:
        raise RuntimeError(f"rollup_ai_usage failed:\n{said[-3000:]}")
    return f"{elapsed:.1f} s (subprocess): {said.splitlines()[-1] if said else ''}"


def print_requests(rows: list[tuple]) -> float:
    print(
        f"{'request':<40} {'typical ms':>10} {'large ms':>9} {'large/typical':>13}  "
        "large within 3x and 50 ms"
    )
    worst = 0.0
    for label, typical, large, _, _ in rows:
        ratio = large / typical
        worst = max(worst, ratio)
        ok = "yes" if ratio <= 3 and large < 50 else "no"
        print(f"{label:<40} {typical:>10.1f} {large:>9.1f} {ratio:>13.2f}  {ok}")
    return worst


def print_ops(rows: list[tuple[str, dict]]) -> None:
    print(
        f"{'ops command':<48} {'in process s':>12} {'subprocess s':>12}  exit  "
        "what it said (last line)"
    )
    for label, found in rows:
        median = statistics.median(found["seconds"])
        said = found["failed"] or found["last"]
        if found["lines"] > 2:
            said = f"{found['lines']} lines: {said}"
        print(
            f"{label:<48} {median:>12.3f} {found['subprocess']:>12.2f}  {found['exit']:>4}  "
            f"{said[:80]}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of the data (default 1.0)")
    parser.add_argument(
        "--typical-transactions", type=int, default=100, help="per typical business (100)"
    )
    parser.add_argument("--repeat", type=int, default=9, help="requests per median (9)")
    parser.add_argument(
        "--time-limit", type=int, default=3600, help="seconds before the bench gives up (3600)"
    )
    parser.add_argument(
        "--no-build", action="store_true", help="time the database the last run built"
    )
    args = parser.parse_args()
    if not 0 < args.scale <= 1 or args.typical_transactions <= PAGE or args.repeat < 1:
        parser.error("--scale in (0, 1], --typical-transactions above 20, --repeat at least 1")

    def too_long(*_):
        raise TimeoutError(f"the bench ran past --time-limit ({args.time_limit} s)")

    signal.signal(signal.SIGALRM, too_long)
    signal.alarm(args.time_limit)
    with Processes() as processes:
        # No feature call is made: the provider's URL is never reached.
        env = server_env(BENCH_URL, free_port(), processes.workdir)
        steps, gunicorn = serve_plan(free_port(), sync=False)
        took = []
        if not args.no_build:
            started = time.perf_counter()
            recreate_database(BENCH_URL)
            for step in steps:
                run(step, env)
            took.append(("migrate, collectstatic", time.perf_counter() - started))
            took += build(BENCH_URL, args.scale, args.typical_transactions)
            rolled = rollup(env)
            took.append(("VACUUM (ANALYZE)", vacuum_analyze(BENCH_URL)))
        else:
            rolled = "not run (--no-build)"
        print(machine(BENCH_URL))
        found = facts(BENCH_URL)
        counts = ", ".join(f"{n:,} {label}" for label, n in found["counts"].items())
        print(f"Rows: {counts}")
        for kind, facts_ in found["businesses"].items():
            rows = ", ".join(f"{n:,} {label}" for label, n in facts_["rows"].items())
            print(f"The {kind} business (id {facts_['id']}): {rows}")
        if took:
            print(
                f"Build: {sum(s for _, s in took):.1f} s ("
                + ", ".join(f"{name} {s:.1f} s" for name, s in took)
                + ")"
            )
        print(f"rollup_ai_usage: {rolled}")

        businesses = {kind: found["businesses"][kind] for kind in ("typical", "large")}
        port = start_server(processes, env, gunicorn, businesses["typical"]["token"])
        today = datetime.now(TIME_ZONE).date()
        for _ in range(2):  # every worker: imports, its connection, the first queries
            for _label, path in requests_timed(today):
                for facts_ in businesses.values():
                    send(port, "GET", path(facts_) if callable(path) else path, facts_["token"])
        rows = timed(port, businesses, today, args.repeat)
        ops = [
            (
                "reconcile_ai_payments --check-ledger",
                ops_timed(env, ["reconcile_ai_payments", "--check-ledger"], OPS_REPEAT),
            ),
            (
                "reconcile_ai_payments --check-ledger --full",
                ops_timed(env, ["reconcile_ai_payments", "--check-ledger", "--full"], OPS_REPEAT),
            ),
            (
                "setup_ai_credits --list-businesses",
                ops_timed(env, ["setup_ai_credits", "--list-businesses"], OPS_REPEAT),
            ),
        ]
        errors = server_errors(processes)

    print()
    print("What the first answers said (typical | large):")
    for label, _, _, typical, large in rows:
        print(f"  {label:<40} {typical} | {large}")
    print(f"Server error lines logged: {errors}")
    print("Load average after: " + " ".join(f"{n:.2f}" for n in os.getloadavg()))
    print()
    print(
        f"gthread workers as `make serve`, DEBUG off; medians of {args.repeat} requests, "
        "each on a new connection"
    )
    worst = print_requests(rows)
    print()
    print(
        f"Ops commands: in process = call_command in one manage.py shell, median of {OPS_REPEAT}"
        " (connection open); subprocess = the whole manage.py run, once"
    )
    print_ops(ops)
    print()
    print(f"worst large/typical ratio: {worst:.2f}")
    ledger_ok = all(found["exit"] == 0 for label, found in ops if "check-ledger" in label)
    return 0 if ledger_ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
