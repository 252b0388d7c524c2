"""The database: engines, tables, the unit of work and its clock, migrations.

Everything above it reaches SQL through here; nothing here knows a follow-up rule.
"""
