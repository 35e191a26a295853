"""An API process runs BLAS on one thread (see `mercato.app.lifespan` for why)."""

from __future__ import annotations

from threadpoolctl import threadpool_info


async def test_blas_runs_on_one_thread_once_the_app_has_started(app: object) -> None:
    blas = [library for library in threadpool_info() if library["user_api"] == "blas"]
    assert blas, "numpy's BLAS is loaded by the recommendation strategies"
    assert {library["num_threads"] for library in blas} == {1}
