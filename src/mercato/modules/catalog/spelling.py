"""Typo tolerance for catalog search: each query word not in the tenant's vocabulary
(`catalog_term`, kept by a trigger on `product`) is widened with its nearest vocabulary
words by trigram distance — a GiST KNN lookup — kept only when they are one or two edits
away, so `chiar` also searches `chair` and `sofe` `sofa`. The last word is also matched as
a prefix for search-as-you-type.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 8
NEIGHBOURS = 8

NEAREST_TERMS_SQL = text(
    "SELECT w.word, t.term FROM unnest(CAST(:words AS text[])) AS w(word) "
    "CROSS JOIN LATERAL (SELECT term FROM catalog_term WHERE tenant_id = :tenant_id "
    "ORDER BY term <-> w.word LIMIT :neighbours) AS t"
)


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a transposition (`ia` ↔ `ai`) costs one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def tolerated_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


async def query_words(session: AsyncSession, tenant_id: uuid.UUID, q: str) -> list[list[str]]:
    """The query's words, each with the vocabulary words a typo of it may have meant."""
    words = [word.lower() for word in WORD.findall(q)][:MAX_WORDS]
    if not words:
        return []
    fuzzy = [word for word in words if len(word) >= 3 and not word.isdigit()]
    near: dict[str, list[str]] = {}
    if fuzzy:
        rows = await session.execute(
            NEAREST_TERMS_SQL,
            {"words": fuzzy, "tenant_id": tenant_id, "neighbours": NEIGHBOURS},
        )
        for word, term in rows:
            near.setdefault(word, []).append(term)
    groups = []
    for word in words:
        terms = near.get(word, [])
        if word in terms:
            groups.append([word])
            continue
        close = sorted(
            (distance, term)
            for term in terms
            if (distance := edit_distance(word, term)) <= tolerated_edits(word)
        )
        groups.append([word, *[term for _, term in close[:2]]])
    return groups


def tsquery_text(groups: list[list[str]]) -> str:
    """`(chiar:* | chair) & oak` — words are letters and digits only, so this is safe."""
    parts = []
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        alternatives = [f"{group[0]}:*" if last else group[0], *group[1:]]
        parts.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(parts)
