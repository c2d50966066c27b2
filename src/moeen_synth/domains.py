"""The values of the coded columns that profiles mix and generators draw, stated once.

Each tuple's order is the order of its codes (``models.columns.Labels``); the schema's CHECK
constraints allow these values (``tests/unit/test_catalogue.py`` holds them together).
"""

from __future__ import annotations

APPOINTMENT_STATUSES = ("pending", "confirmed", "completed", "no_show", "cancelled")
PAST_STATUSES = ("completed", "no_show", "cancelled")  # a past visit's possible outcomes
FUTURE_STATUSES = ("pending", "confirmed", "cancelled")  # a booked visit's possible states
APPOINTMENT_TYPES = ("consultation", "follow_up", "emergency", "surgery", "checkup")
PAYMENT_METHODS = ("cash", "card", "bank_transfer", "insurance")
SELF_PAY_METHODS = ("cash", "card", "bank_transfer")
PAYMENT_STATUSES = ("unpaid", "paid", "partial", "refunded")
CLAIM_STATUSES = ("submitted", "under_review", "approved", "rejected", "paid", "draft")
CLAIM_OUTCOMES = ("submitted", "under_review", "approved", "rejected", "paid")  # not drafts
