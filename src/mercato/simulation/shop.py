"""The catalog as the simulated shoppers see it: flat lists indexed by product number.

Building this once keeps the per-event work of the simulator to list look-ups and a
bisect: product popularity within each leaf category, category complements, page paths,
and a word index that answers how many products a search query would find.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from collections import Counter
from itertools import accumulate

from mercato.modules.tracking import decimal_string_to_cents
from mercato.simulation.catalog import Catalog

# Things shoppers look for that the demo shop does not sell: its search gaps.
GAP_QUERIES = (
    "trampoline",
    "hammock",
    "pizza oven",
    "standing desk",
    "bunk bed",
    "patio heater",
    "air fryer",
    "sauna",
    "aquarium",
    "baby crib",
)
TYPO_WORDS = 12
_WORD = re.compile(r"[^\W_]+")


class ShopIndex:
    """Product and category look-ups for the simulator (read-only after construction)."""

    def __init__(self, catalog: Catalog, rng: random.Random) -> None:
        products = catalog.products
        if not products:
            raise ValueError("the simulator needs a catalog with at least one product")
        self.currency = catalog.currency
        self.product_ids = [p["product_id"] for p in products]
        self.prices = [p["price"] for p in products]
        self.price_cents = [decimal_string_to_cents(p["price"]) for p in products]
        self.available = [bool(p.get("available", True)) for p in products]
        self.leaf_paths = sorted({p["category"] for p in products})
        leaf_number = {path: i for i, path in enumerate(self.leaf_paths)}
        self.leaf_of = [leaf_number[p["category"]] for p in products]
        self.departments = sorted({path.split(" > ")[0] for path in self.leaf_paths})
        self.department_of_leaf = [
            self.departments.index(path.split(" > ")[0]) for path in self.leaf_paths
        ]
        self.page_of_leaf = ["/c/" + _slug(path) for path in self.leaf_paths]
        self.leaf_products: list[list[int]] = [[] for _ in self.leaf_paths]
        for number, leaf in enumerate(self.leaf_of):
            self.leaf_products[leaf].append(number)
        self.leaf_cumulative = [self._popularity(rng, members) for members in self.leaf_products]
        self.leaf_weight = [float(len(members)) for members in self.leaf_products]
        self.complements = [
            [leaf_number[c] for c in catalog.complements.get(path, ()) if c in leaf_number]
            for path in self.leaf_paths
        ]
        self.names = [p["name"].lower() for p in products]
        self.brands = [str(p.get("brand") or "").lower() for p in products]
        self._postings: dict[str, set[int]] = {}
        for number, product in enumerate(products):
            searchable = f"{product['name']} {product.get('brand') or ''} {product['category']}"
            for word in _WORD.findall(searchable.lower()):
                self._postings.setdefault(word, set()).add(number)
        self._counts: dict[str, int] = {}
        self.gap_queries = tuple(q for q in GAP_QUERIES if self.results_count(q) == 0)
        self.typos = self._typos()

    def pick_in_leaf(self, leaf: int, roll: float) -> int:
        """A product of `leaf`, popular ones more often (`roll` uniform in [0, 1))."""
        cumulative = self.leaf_cumulative[leaf]
        return self.leaf_products[leaf][bisect(cumulative, roll * cumulative[-1])]

    def most_popular(self, leaf: int, count: int) -> list[int]:
        return self.leaf_products[leaf][:count]

    def results_count(self, query: str) -> int:
        """Products whose name, brand or category has every word of `query`."""
        found = self._counts.get(query)
        if found is None:
            words = _WORD.findall(query.lower())
            sets = [self._postings.get(word, set()) for word in words]
            found = len(set.intersection(*sets)) if sets else 0
            self._counts[query] = found
        return found

    def query_for(self, product: int, roll: float) -> str:
        """A query a shopper looking for `product` would type, built from its name."""
        head, *rest = self.names[product].split(", ")
        words = head.split()
        noun = words[-1]
        if roll < 0.35 or len(words) == 1:
            return noun
        if roll < 0.6:
            return " ".join(words[1:])
        if roll < 0.8 and rest:
            return f"{rest[0]} {noun}"
        if roll < 0.9 and self.brands[product]:
            return self.brands[product]
        return head

    def _popularity(self, rng: random.Random, members: list[int]) -> list[float]:
        """Shuffle `members` into popularity order and return Zipf-like cumulative weights."""
        rng.shuffle(members)
        return list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(members))))

    def _typos(self) -> dict[str, str]:
        """Misspellings of the most common product words (typo → intended word).

        Only typos that match no product word are kept, so a plain search finds nothing
        and only a typo-tolerant one helps.
        """
        nouns = Counter(name.split(", ")[0].split()[-1] for name in self.names)
        typos: dict[str, str] = {}
        for word, _ in nouns.most_common():
            typo = misspell(word)
            if typo and typo not in self._postings and typo not in typos:
                typos[typo] = word
            if len(typos) == TYPO_WORDS:
                break
        return typos


def misspell(word: str) -> str | None:
    """The kind of slip people make: a doubled letter typed once, a wrong final vowel, or
    two middle letters swapped (`mattress` → `matress`, `sofa` → `sofe`, `chair` → `chiar`)."""
    if len(word) < 4 or not word.isalpha():
        return None
    for i in range(1, len(word)):
        if word[i] == word[i - 1]:
            return word[:i] + word[i + 1 :]
    if word[-1] in "aeiou":
        return word[:-1] + ("e" if word[-1] != "e" else "a")
    if word[2] != word[3]:
        return word[:2] + word[3] + word[2] + word[4:]
    return None


def _slug(path: str) -> str:
    return "/".join("-".join(_WORD.findall(part.lower())) for part in path.split(" > "))
