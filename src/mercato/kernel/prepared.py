"""psycopg connections that keep their prepared statements across a rollback.

psycopg prepares a statement once the connection has run it `prepare_threshold` (5)
times, and PostgreSQL plans a prepared statement generically after five custom plans.
A plain `AsyncConnection.rollback()` forgets every statement the connection prepared
(`DEALLOCATE ALL`, one more round trip), in case the rolled-back transaction created or
dropped what they refer to. Requests never change the schema, yet every refused request
rolls back: under checkout's load (one in six answered 409), each pooled connection lost
its statements every few requests, so almost every checkout statement was sent as text,
parsed, rewritten under RLS and planned again (about 0.6 ms of PostgreSQL CPU per
checkout, `bench/checkout.py`).

The app's engines connect with `KeepPreparedConnection`: the rollback of a transaction
that the application refused (nothing failed on the server) keeps the prepared statements.
Schema changes run elsewhere (migrations, on the owner's own connections), and PostgreSQL
re-plans a kept statement by itself when a table it reads changes — except when the change
alters what the statement returns ("cached plan must not change result type"): that fails
the statement on the server, and the rollback of a failed transaction is psycopg's own,
which forgets every statement, so the retry prepares it afresh.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from psycopg._preparing import PrepareManager
from psycopg.abc import PQGen


class KeepPreparedConnection(psycopg.AsyncConnection[Any]):
    """An `AsyncConnection` whose `rollback()` of a healthy transaction keeps the prepared
    statements."""

    def _rollback_gen(self) -> PQGen[None]:
        failed = self.pgconn.transaction_status == pq.TransactionStatus.INERROR
        if failed or self._pipeline is not None:
            # A statement failed (perhaps one the schema changed under), or a pipeline's
            # pending results still update the cache: psycopg's own way.
            return (yield from super()._rollback_gen())
        kept = self._prepared
        # psycopg's rollback forgets the statements of a manager with none.
        self._prepared = PrepareManager()
        self._prepared.prepare_threshold = kept.prepare_threshold
        try:
            yield from super()._rollback_gen()
        finally:
            self._prepared = kept
