"""What the payments room's tests share: the answers of GET/POST /ai/api/credits/verify/, for
either gateway."""

# Each answer as (HTTP status, "status", "message").
CREDITED = (200, "success", "Payment verified and credits added successfully")
ALREADY_PROCESSED = (200, "success", "Payment already processed")
NOT_COMPLETED = (400, "failed", "Payment was not completed.")
NOT_FOUND = (404, "failed", "Purchase not found")


def verify_answer(answer, reference: str, **amounts) -> tuple[int, dict]:
    """(HTTP status, whole body) of a verify answer, to compare with
    `(response.status_code, response.json())`."""
    status_code, status, message = answer
    return status_code, {"status": status, "message": message, "reference": reference, **amounts}
