"""The one test harness: helpers and real local servers shared by every test directory.

- `waiting`: `wait_until`, and `Recorder`, a list server threads fill and tests wait on.
- `net`: `free_port`.
- `data`: the fixed clock `NOW`, `OPS`, follow-up factories and outbox reads.
- `database`: `empty_tables`, `snapshot`.
- `settings`: `build_settings` and `settings_environ` (Settings as IED_* variables).
- `slack`, `smtp`: the fake Slack webhook (HTTP) and the SMTP sink (aiosmtpd).
- `processes`: environments for servers and product processes, `CeleryProcess`,
  `Supervisor`, `broker`; `deployment`: the product deployed for one test.
- `servers`: private redis-server and PostgreSQL cluster a test may break.
- `cli`: the in-process `ied-workflow` runner behind the `cli` fixture.
- `leaks`: the pytest plugin that fails a test leaving a process behind; `daemons`: the
  detached servers it knows by name.
"""
