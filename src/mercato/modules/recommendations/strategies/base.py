"""The one interface every strategy implements, and what they share: resolving a query
against the model's indexes, filtering, ranking, explaining and saving.

A single-source strategy produces a `Shortlist` (candidate products, scores and what
explains each); the base class removes what must never be shown (unavailable, deleted,
excluded, already bought, the product on screen) and turns the best `k` into
`Recommendation`s.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

import numpy as np

from mercato.modules.recommendations.event_log import BoolArray, FloatArray, StrArray
from mercato.modules.recommendations.interactions import IntArray, InteractionData
from mercato.modules.recommendations.model_file import Arrays, load_arrays, save_arrays
from mercato.modules.recommendations.neighbours import Spread, recency_weights
from mercato.modules.recommendations.snapshot import CatalogSnapshot, ShopperHistory


class ModelNotFittedError(RuntimeError):
    """A strategy was asked for recommendations before `fit` or `load`."""


class ModelFileMismatchError(ValueError):
    """A model file holds another strategy than the one loading it."""


@dataclass(frozen=True)
class Recommendation:
    product_id: str
    score: float
    reason: str


@dataclass(frozen=True)
class Context:
    """A query resolved against the model's indexes (-1 = unknown to the model)."""

    user: int
    product: int
    session: IntArray
    """Known products of the current visit, oldest first, ending with `product`."""
    blocked: IntArray
    """Product indexes never to return, sorted."""

    @property
    def is_new_shopper(self) -> bool:
        """No history and nothing viewed in this visit besides the product on screen."""
        return self.user < 0 and self.session.size <= (1 if self.product >= 0 else 0)

    def anchors(self, shoppers: ShopperHistory, exponent: float) -> tuple[IntArray, FloatArray]:
        """The products a query is about, oldest first, with recency weights: this
        visit's products, or without any, the shopper's latest ones."""
        products = self.session
        if products.size == 0:
            products = shoppers.latest_products(self.user)[::-1]
        return products, recency_weights(products.size, exponent)

    def allowed(self, products: IntArray, catalog: CatalogSnapshot) -> BoolArray:
        allowed: BoolArray = catalog.recommendable[products]
        if self.blocked.size:
            allowed &= ~np.isin(products, self.blocked, assume_unique=False)
        return allowed


@dataclass(frozen=True)
class Shortlist:
    """Candidates with scores; `subjects[i]` indexes `labels`, the thing the reason for
    candidate `i` names (a product, a category), or is -1 when the template needs none."""

    products: IntArray
    scores: FloatArray
    subjects: IntArray
    template: str
    labels: StrArray

    @classmethod
    def from_spread(cls, spread: Spread, template: str, labels: StrArray) -> Shortlist:
        return cls(spread.products, spread.scores, spread.best_source, template, labels)

    @classmethod
    def empty(cls) -> Shortlist:
        return cls.from_spread(Spread.empty(), "", np.array([], dtype=np.str_))

    def __len__(self) -> int:
        return int(self.products.shape[0])

    def reason(self, position: int) -> str:
        subject = int(self.subjects[position])
        return self.template.format(self.labels[subject] if subject >= 0 else "")

    def only(self, keep: BoolArray | IntArray) -> Shortlist:
        return Shortlist(
            self.products[keep], self.scores[keep], self.subjects[keep], self.template, self.labels
        )

    def best(self, k: int) -> Shortlist:
        """The `k` highest scores, best first (ties: lower product index first)."""
        if len(self) > k:
            cut = np.argpartition(-self.scores, k - 1)[:k]
            ranked = self.only(cut)
        else:
            ranked = self
        return ranked.only(np.lexsort((ranked.products, -ranked.scores)))


class Strategy(ABC):
    """Fit on interactions; answer `recommend` from precomputed state in milliseconds."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self._catalog: CatalogSnapshot | None = None
        self._shoppers: ShopperHistory | None = None

    @property
    def catalog(self) -> CatalogSnapshot:
        if self._catalog is None:
            raise ModelNotFittedError(f"{self.name} is not fitted")
        return self._catalog

    @property
    def shoppers(self) -> ShopperHistory:
        if self._shoppers is None:
            raise ModelNotFittedError(f"{self.name} is not fitted")
        return self._shoppers

    def fit(self, data: InteractionData) -> None:
        """Learn from `data`, replacing whatever was learnt before."""
        self.attach(CatalogSnapshot.from_data(data), ShopperHistory.from_data(data))
        self._fit(data)

    def attach(self, catalog: CatalogSnapshot, shoppers: ShopperHistory) -> None:
        """Share the indexes another strategy already built (the blend fits once)."""
        self._catalog, self._shoppers = catalog, shoppers

    def recommend(
        self,
        *,
        user_id: str | None = None,
        product_id: str | None = None,
        k: int = 10,
        exclude: Collection[str] = frozenset(),
        recently_viewed: Sequence[str] = (),
        include_purchased: bool = False,
        include_context_product: bool = False,
    ) -> list[Recommendation]:
        """The best `k` products for a shopper and/or the product on screen.

        `recently_viewed` lists this visit's earlier products, oldest first (ids the
        model does not know are ignored). Never returns unavailable or deleted products
        nor `exclude`; nor, unless told otherwise, what the shopper already bought or
        the product on screen itself.
        """
        if k <= 0:
            return []
        context = self.resolve(
            user_id=user_id,
            product_id=product_id,
            exclude=exclude,
            recently_viewed=recently_viewed,
            include_purchased=include_purchased,
            include_context_product=include_context_product,
        )
        return self.rank(context, k)

    def resolve(
        self,
        *,
        user_id: str | None,
        product_id: str | None,
        exclude: Collection[str],
        recently_viewed: Sequence[str],
        include_purchased: bool,
        include_context_product: bool,
    ) -> Context:
        catalog = self.catalog
        user = self.shoppers.index(user_id)
        product = catalog.index(product_id)
        session = catalog.indexes(list(recently_viewed))
        if product >= 0:
            session = np.append(session, product)
        blocked = [catalog.indexes(list(exclude))]
        if not include_purchased:
            blocked.append(self.shoppers.purchased_products(user))
        if product >= 0 and not include_context_product:
            blocked.append(np.array([product], dtype=np.int64))
        return Context(user, product, session, np.unique(np.concatenate(blocked)))

    def save(self, path: Path) -> None:
        """Write the fitted model as arrays in one `.npz` file (no pickle)."""
        arrays: Arrays = {"strategy": np.array(self.name)}
        arrays.update(self.catalog.to_arrays())
        arrays.update(self.shoppers.to_arrays())
        arrays.update(self.model_arrays())
        save_arrays(path, arrays)

    @classmethod
    def load(cls, path: Path) -> Self:
        """A model `save` wrote, ready to answer queries; refuses another strategy's file."""
        return cls.from_arrays(load_arrays(path), source=str(path))

    @classmethod
    def from_arrays(cls, arrays: Arrays, *, source: str = "model") -> Self:
        stored = str(arrays["strategy"])
        if stored != cls.name:
            raise ModelFileMismatchError(f"{source} holds a {stored} model, not {cls.name}")
        strategy = cls()
        strategy.attach(CatalogSnapshot.from_arrays(arrays), ShopperHistory.from_arrays(arrays))
        strategy.restore(arrays)
        return strategy

    @abstractmethod
    def _fit(self, data: InteractionData) -> None: ...

    @abstractmethod
    def rank(self, context: Context, k: int) -> list[Recommendation]:
        """At most `k` recommendations for a resolved query, best first, filtered."""

    @abstractmethod
    def model_arrays(self) -> Arrays:
        """The fitted state (without the shared indexes) as named arrays."""

    @abstractmethod
    def restore(self, arrays: Arrays) -> None:
        """Take back the state `model_arrays` produced."""


class SingleSourceStrategy(Strategy):
    """A strategy with one source of candidates: filter its shortlist, keep the best."""

    def rank(self, context: Context, k: int) -> list[Recommendation]:
        shortlist = self.shortlist(context, k)
        allowed = shortlist.only(context.allowed(shortlist.products, self.catalog))
        ranked = allowed.best(k)
        ids = self.catalog.product_ids
        return [
            Recommendation(str(ids[product]), float(score), ranked.reason(position))
            for position, (product, score) in enumerate(
                zip(ranked.products, ranked.scores, strict=True)
            )
        ]

    @abstractmethod
    def shortlist(self, context: Context, k: int) -> Shortlist:
        """Candidates before filtering; enough of them that filtering leaves `k`
        when the model knows that many."""
