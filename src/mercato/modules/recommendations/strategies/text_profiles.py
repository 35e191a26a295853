"""TF-IDF profiles of products from their own words, and the most similar products.

Plain scipy rather than scikit-learn: the vectoriser is a tokeniser, a vocabulary and
two vector operations, and the neighbour search has to be chunked and top-N-pruned for
100k products anyway, which scikit-learn's estimators would not do for us.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import scipy.sparse as sp

from mercato.modules.recommendations.event_log import CATEGORY_SEPARATOR, CatalogTable
from mercato.modules.recommendations.neighbours import top_per_row

WORD = re.compile(r"[^\W_]{2,}")

FIELD_WEIGHTS = {"name": 3.0, "brand": 2.0, "category": 2.0, "description": 1.0, "attributes": 1.0}
"""A shared word in the name says more than one in the description."""

COMMON_WORD_SHARE = 0.1
COMMON_WORD_FLOOR = 50
"""Words on more than 10 % of products (and more than 50 of them) say little about
similarity, and would make the neighbour search quadratic; they are left out."""

PAIR_BUDGET = 150_000_000
"""Upper bound on the (product, product, shared word) triples the neighbour search may
visit: the rarest words are kept until their pairs reach it, so a large catalog full of
mid-frequency words still fits in seconds; small catalogs never hit it."""

ROWS_PER_BLOCK = 2_000


def _terms(field: str, text: str) -> Iterable[str]:
    words = WORD.findall(text.lower())
    if field == "brand" and text:
        return [*words, f"brand={text.lower()}"]
    if field == "category" and text:
        levels = text.lower().split(CATEGORY_SEPARATOR)
        paths = [CATEGORY_SEPARATOR.join(levels[: depth + 1]) for depth in range(len(levels))]
        return [*words, *(f"category={path}" for path in paths)]
    return list(words)


def term_counts(products: CatalogTable) -> sp.csr_matrix:
    """Products x terms, each occurrence weighted by its field."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    weights: list[float] = []
    for field, weight in FIELD_WEIGHTS.items():
        for row, text in enumerate(getattr(products, field).tolist()):
            for term in _terms(field, text):
                rows.append(row)
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                weights.append(weight)
    counts = sp.csr_matrix(
        (
            np.asarray(weights),
            (np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)),
        ),
        shape=(len(products), len(vocabulary)),
    )
    counts.sum_duplicates()
    return counts


def tfidf(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Sublinear TF times smoothed IDF, rows scaled to unit length; words found on a
    single product (they link nothing), very common words and, past the pair budget,
    the most frequent remaining words are dropped."""
    products = counts.shape[0]
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    common = max(COMMON_WORD_SHARE * products, COMMON_WORD_FLOOR)
    useful = (frequency >= 2) & (frequency <= common)
    rarest_first = np.argsort(frequency, kind="stable")
    rarest_first = rarest_first[useful[rarest_first]]
    pairs = np.cumsum(frequency[rarest_first].astype(np.float64) ** 2)
    useful[rarest_first[pairs > PAIR_BUDGET]] = False
    idf = np.where(useful, np.log((1.0 + products) / (1.0 + frequency)) + 1.0, 0.0)
    weighted = counts.copy()
    weighted.data = (1.0 + np.log(weighted.data)) * idf[weighted.indices]
    weighted.eliminate_zeros()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(scale) @ weighted)


_reused: ContextVar[dict[bytes, sp.csr_matrix] | None] = ContextVar(
    "similar_products_reused", default=None
)


@contextmanager
def similar_products_reused() -> Iterator[None]:
    """Within the block, the neighbours of one catalog's profiles are searched once.

    A fit job fits the blend up to three times on the same catalog (to choose its
    weights, the fit itself, the offline scores) and the text neighbours, which depend
    on the catalog alone, are the largest part of each. The memory lives only as long
    as the block, so nothing outlives the job that computed it."""
    token = _reused.set({})
    try:
        yield
    finally:
        _reused.reset(token)


def _profiles_key(profiles: sp.csr_matrix, neighbours: int) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    for part in (profiles.indptr, profiles.indices, profiles.data):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(f"{profiles.shape}:{neighbours}".encode())
    return digest.digest()


def similar_products(profiles: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """Top `neighbours` by cosine similarity per product (itself excluded); searched once
    per catalog within `similar_products_reused`."""
    reused = _reused.get()
    if reused is None:
        return _search_similar(profiles, neighbours)
    key = _profiles_key(profiles, neighbours)
    if key not in reused:
        reused[key] = _search_similar(profiles, neighbours)
    return reused[key].copy()


def _search_similar(profiles: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """The neighbour search, a block of rows at a time so memory stays bounded."""
    transposed = sp.csr_matrix(profiles.T)
    blocks = []
    for start in range(0, profiles.shape[0], ROWS_PER_BLOCK):
        block = sp.csr_matrix(profiles[start : start + ROWS_PER_BLOCK] @ transposed)
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        block.data[block.indices == rows + start] = 0.0
        blocks.append(top_per_row(block, neighbours))
    if not blocks:
        return sp.csr_matrix(profiles.shape[:1] * 2)
    return sp.csr_matrix(sp.vstack(blocks))
