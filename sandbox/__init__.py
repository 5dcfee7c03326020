"""A local stand-in for the parts of Paystack's API this service uses (development only)."""
