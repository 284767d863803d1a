"""Outcome log and KPIs for supervisors (docs/analytics.md).

records.py — what is logged (pure); log.py — the table and its writer (off the hot
path); kpi.py — the KPI formulas (pure); the console's API and dashboard live in
channels/analytics.py and web/agent/.
"""
