"""Rank Google product categories for a merchant's own category by text similarity.

A merchant category such as "Furniture > Living room > Sofas" holding "Oslo 3-seat sofa"
should suggest Google's "Furniture > Sofas". Both sides become TF-IDF vectors of word
stems plus character trigrams (so "Frying pans" still meets "Skillets & Frying Pans" and
small spelling differences count), weighted toward the leaf: the last level of a path says
what the thing is, the levels above only where it lives. A score blends the cosine
similarity with how much of the merchant's leaf the Google leaf name covers; both are sparse
matrix products over all 5,595 categories, so the index is built once per process and a
suggestion costs about a millisecond.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mercato.modules.channels.taxonomy.file_format import PATH_SEPARATOR, GoogleCategory

# Weight of a path level by its distance from the leaf (0 = leaf); deeper ancestors say less.
_LEVEL_WEIGHTS = (1.0, 0.45, 0.25, 0.15)
_TRIGRAM_WEIGHT = 0.25
# Product names describe the category's contents: a word in every name counts this much.
_PRODUCT_NAMES_WEIGHT = 0.6
# Share of the score that comes from the query's leaf words found in a category's leaf.
_LEAF_COVERAGE_SHARE = 0.45
_WORD_PREFIX = "w:"
_STOP_WORDS = frozenset({"and", "for", "the", "of", "with", "a", "an", "in", "on", "to", "or"})
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class CategorySuggestion:
    category: GoogleCategory
    score: float


class TaxonomyIndex:
    """TF-IDF vectors of every Google category path; build once, query many times."""

    def __init__(self, categories: Iterable[GoogleCategory]) -> None:
        self.categories: list[GoogleCategory] = list(categories)
        if not self.categories:
            raise ValueError("a taxonomy index needs at least one category")
        self._by_id = {category.id: category for category in self.categories}
        documents = [_path_features(category.path) for category in self.categories]
        self._columns: dict[str, int] = {}
        document_frequency: Counter[str] = Counter()
        for features in documents:
            document_frequency.update(features.keys())
            for feature in features:
                self._columns.setdefault(feature, len(self._columns))
        count = len(documents)
        self._idf = np.zeros(len(self._columns))
        for feature, column in self._columns.items():
            self._idf[column] = math.log((1 + count) / (1 + document_frequency[feature])) + 1.0
        rows, cols, values = [], [], []
        for row, features in enumerate(documents):
            for feature, weight in features.items():
                column = self._columns[feature]
                rows.append(row)
                cols.append(column)
                values.append(weight * self._idf[column])
        shape = (count, len(self._columns))
        matrix = sp.csr_array((values, (rows, cols)), shape=shape)
        norms = np.sqrt(matrix.multiply(matrix).sum(axis=1))
        # Stored feature-major: a query reads only the rows of the features it mentions.
        self._by_feature = sp.csr_array(sp.diags_array(1.0 / norms) @ matrix).T.tocsr()
        leaf_cells = [
            (row, self._columns[_WORD_PREFIX + stem])
            for row, category in enumerate(self.categories)
            for stem in set(_stems(category.name))
        ]
        leaf_rows, leaf_cols = zip(*leaf_cells, strict=True) if leaf_cells else ((), ())
        leaf_words = sp.csr_array((np.ones(len(leaf_cells)), (leaf_rows, leaf_cols)), shape=shape)
        self._leaf_by_word = leaf_words.T.tocsr()
        self._levels = np.array([category.level for category in self.categories])

    def get(self, category_id: int) -> GoogleCategory | None:
        return self._by_id.get(category_id)

    def suggest(
        self, category_path: str, product_names: Sequence[str], limit: int
    ) -> list[CategorySuggestion]:
        """See `suggest_categories`."""
        features = _path_features(category_path)
        names = [stems for stems in map(_stems, product_names) if stems]
        names_with_stem: Counter[str] = Counter()
        for stems in names:
            names_with_stem.update(set(stems))
        for stem, count in names_with_stem.items():
            _add_word(features, stem, _PRODUCT_NAMES_WEIGHT * count / len(names))
        levels = _levels(category_path)
        leaf_stems = _stems(levels[-1]) if levels else []
        return self._rank(features, leaf_stems, limit)

    def _rank(
        self, features: dict[str, float], leaf_stems: list[str], limit: int
    ) -> list[CategorySuggestion]:
        """The `limit` categories most similar to a query, best first.

        The score blends the cosine of the TF-IDF vectors with how much of the query's leaf
        (its idf-weighted words) the category's own leaf name covers: "Dining tables" then
        prefers "Kitchen & Dining Room Tables" to the broader "Tables".
        """
        known = [(self._columns[f], w) for f, w in features.items() if f in self._columns]
        if not known or limit <= 0:
            return []
        columns = np.fromiter((column for column, _ in known), dtype=np.int64, count=len(known))
        weights = np.fromiter((weight for _, weight in known), dtype=float, count=len(known))
        weights *= self._idf[columns]
        weights /= np.linalg.norm(weights)
        scores = (1 - _LEAF_COVERAGE_SHARE) * (self._by_feature[columns].T @ weights)
        leaf_keys = {_WORD_PREFIX + stem for stem in leaf_stems}
        leaf_columns = np.array(
            sorted(self._columns[key] for key in leaf_keys if key in self._columns),
            dtype=np.int64,
        )
        if len(leaf_columns):
            leaf_idf = self._idf[leaf_columns]
            coverage = self._leaf_by_word[leaf_columns].T @ (leaf_idf / leaf_idf.sum())
            scores += _LEAF_COVERAGE_SHARE * coverage
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        # Best score first; on a tie the broader (shallower) category, then Google's order.
        order = np.lexsort((candidates, self._levels[candidates], -scores[candidates]))
        return [
            CategorySuggestion(self.categories[i], round(float(scores[i]), 4))
            for i in candidates[order]
        ]


def suggest_categories(
    category_path: str,
    product_names: Sequence[str],
    taxonomy: TaxonomyIndex,
    limit: int = 5,
) -> list[CategorySuggestion]:
    """Google categories for a merchant category, best first, with scores in (0, 1].

    `category_path` has its levels separated by ">" (as in "Kitchen > Cookware > Frying
    pans"), leaf last; `product_names` are the names of products in that category and
    sharpen the match (words shared by many of them weigh most). Returns fewer than
    `limit` when fewer categories share any word or trigram with the input, and an empty
    list for input with no usable words.
    """
    return taxonomy.suggest(category_path, product_names, limit)


def _levels(path: str) -> list[str]:
    return [level.strip() for level in path.split(">") if level.strip()]


def _path_features(path: str) -> dict[str, float]:
    levels = _levels(path)
    # A word repeated down the path ("Cookware & Bakeware > Cookware") counts once, at the
    # weight of its level nearest the leaf, so a child does not outweigh its parent on it.
    stem_weights: dict[str, float] = {}
    for distance, level in enumerate(reversed(levels)):
        weight = _LEVEL_WEIGHTS[min(distance, len(_LEVEL_WEIGHTS) - 1)]
        for stem in _stems(level):
            stem_weights.setdefault(stem, weight)
    features: dict[str, float] = {}
    for stem, weight in stem_weights.items():
        _add_word(features, stem, weight)
    return features


def _add_word(features: dict[str, float], stem: str, weight: float) -> None:
    key = _WORD_PREFIX + stem
    features[key] = features.get(key, 0.0) + weight
    padded = f"#{stem}#"
    trigram_weight = weight * _TRIGRAM_WEIGHT
    for start in range(len(padded) - 2):
        trigram = "t:" + padded[start : start + 3]
        features[trigram] = features.get(trigram, 0.0) + trigram_weight


def _stems(text: str) -> list[str]:
    """Lower-case word stems of `text`, accents folded, digits and stop words dropped."""
    decomposed = unicodedata.normalize("NFKD", text.replace(PATH_SEPARATOR, " "))
    folded = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    words = _WORD.findall(folded)
    return [_singular(word) for word in words if len(word) > 1 and word not in _STOP_WORDS]


def _singular(word: str) -> str:
    """A light English plural stemmer: enough to meet "Sofas" with "sofa", "Boxes" with "box"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses") or (len(word) > 3 and word.endswith(("xes", "ches", "shes", "zes"))):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
