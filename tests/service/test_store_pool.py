"""The service's store pool is bounded (each store is a server connection on PostgreSQL)."""

from __future__ import annotations

import pytest

from relaytrack.errors import StoreBusy
from relaytrack.service.deps import StorePool


def test_pool_is_bounded_and_reuses(store_db):
    pool = StorePool(store_db, max_open=2, wait_s=0.05)
    a = pool.acquire()
    b = pool.acquire()
    assert a is not b
    with pytest.raises(StoreBusy, match="2 store connections busy"):
        pool.acquire()
    pool.release(a)
    assert pool.acquire() is a  # the idle one is lent again, no third connection
    a.conn.execute("BEGIN")  # a request that failed half-way leaves its transaction open
    pool.release(a)
    assert not pool.acquire().conn.in_transaction
    pool.close()
