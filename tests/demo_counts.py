"""The demo seed set's canonical row counts (profiles/demo.yaml, the platform's seed README)."""

DEMO_COUNTS = {
    "users": 10,
    "doctors": 3,
    "patients": 4,
    "appointments": 6,
    "medical_records": 8,
    "insurance_claims": 4,
    "payments": 4,
    "notifications": 6,
}
