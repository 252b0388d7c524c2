"""Accounts: users, their roles and passwords, and API tokens.

`use_cases` runs on the unit of work; `store` holds the SQL, `hashing` the argon2 and
SHA-256, `records` what an account is.
"""
