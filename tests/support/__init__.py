"""The one test harness: helpers and real local servers shared by every test directory.

No tests here: fixtures live in the conftest.py files, everything they and the tests
share lives in these modules.

- `waiting`: `wait_until`, and `Recorder`, a list server threads fill and tests wait on.
- `net`: `free_port`.
- `data`: the fixed clock `NOW`, `OPS`, follow-up factories (`delivered`, `reached`,
  `overdue_follow_ups`), outcomes and outbox reads.
- `database`: `empty_tables`, `snapshot`.
- `contract_invariants`: the contract's invariants read from the database (`violations`).
- `histories`: follow-ups taken through every life the contract allows (`full_lives`).
- `hostile`: hostile text and its strategies for the fuzz tests, and checks of the wire.
- `settings`: `build_settings` and `settings_environ` (Settings as IED_* variables).
- `shared_servers`: the shared PostgreSQL and Redis (scratch databases, clients, ended
  sessions); skip on a laptop without them, fail in CI.
- `slack`, `smtp`: the fake Slack webhook (HTTP) and the SMTP sink (aiosmtpd); `tls`: a
  self-signed certificate's contexts.
- `messages`: alert messages to render and send, and what a rendering shows a reader.
- `api_client`: the HTTP API per role (`Api`), and its problem answers; `console_client`:
  the console signed in through its form (`Browser`); `browser`: Chromium and a served app.
- `processes`: environments for servers and product processes, `CeleryProcess`,
  `Supervisor`, `broker`; `deployment`: the product deployed for one test.
- `redis_namespaces`: a Redis namespace per test on the shared Redis; `namespaced_app`:
  `celery -A tests.support.namespaced_app`, the product's app inside one.
- `servers`: private redis-server and PostgreSQL cluster a test may break; `faults`: the
  fault tests' outcome reads and recorded figures.
- `concurrency_process`: one process of the concurrency test (a `spawn` target).
- `done_means`: the issue's "done means" run (`python -m tests.support.done_means`).
- `cli`: the in-process `ied-workflow` runner behind the `cli` fixture.
- `leaks`: the pytest plugin that fails a test leaving a process behind; `daemons`: the
  detached servers it knows by name.
"""
