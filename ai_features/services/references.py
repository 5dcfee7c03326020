import secrets
import time


def payment_reference_new() -> str:
    """`AI-CREDIT-<epoch ms>-<8 hex>`: only characters Paystack allows in a reference."""
    return f"AI-CREDIT-{int(time.time() * 1000)}-{secrets.token_hex(4).upper()}"
