from __future__ import annotations

from mercato.modules.recommendations.strategies import ContentBasedStrategy, text_profiles

from .shop import DAY, T0, dataset, furniture, visit


def _fitted(events=(), catalog=None) -> ContentBasedStrategy:
    strategy = ContentBasedStrategy()
    strategy.fit(dataset(list(events), catalog))
    return strategy


class TestContentBased:
    def test_products_described_alike_rank_first(self) -> None:
        found = _fitted().recommend(product_id="oak-chair", k=3)
        assert [item.product_id for item in found[:2]] == ["pine-chair", "oak-stool"] or [
            item.product_id for item in found[:2]
        ] == ["oak-stool", "pine-chair"]
        assert found[0].reason == "Similar to Oak Chair"
        assert "grey-sofa" not in [item.product_id for item in found]

    def test_a_sofa_is_most_like_the_other_sofa(self) -> None:
        found = _fitted().recommend(product_id="grey-sofa", k=1)
        assert found[0].product_id == "blue-sofa"

    def test_a_new_product_nobody_viewed_still_has_similar_products(self) -> None:
        strategy = _fitted(visit("u1", "s1", ["lamp", "rug"]))
        found = strategy.recommend(product_id="pine-chair", k=2)
        assert {item.product_id for item in found} == {"oak-chair", "oak-stool"}

    def test_a_shopper_without_context_gets_products_like_their_latest(self) -> None:
        strategy = _fitted(
            visit("u1", "s1", ["oak-chair"], start=T0)
            + visit("u1", "s2", ["grey-sofa"], start=T0 + DAY)
        )
        found = strategy.recommend(user_id="u1", k=1)
        assert found[0].product_id == "blue-sofa"
        assert found[0].reason == "Similar to Grey Sofa"

    def test_deleted_and_unavailable_products_are_not_suggested(self) -> None:
        catalog = furniture(**{"pine-chair": {"deleted": True}, "oak-stool": {"available": False}})
        found = _fitted(catalog=catalog).recommend(product_id="oak-chair", k=10)
        ids = {item.product_id for item in found}
        assert not ids & {"pine-chair", "oak-stool", "oak-chair"}
        assert ids


def test_a_fit_job_searches_one_catalogs_text_neighbours_once(monkeypatch) -> None:
    searched: list[int] = []
    search = text_profiles._search_similar

    def counted(profiles, neighbours):
        searched.append(profiles.shape[0])
        return search(profiles, neighbours)

    monkeypatch.setattr(text_profiles, "_search_similar", counted)
    alone = _fitted()._similar
    with text_profiles.similar_products_reused():
        first, second = _fitted()._similar, _fitted()._similar
        smaller = _fitted(catalog=furniture()[:-1])._similar
    after = _fitted()._similar
    # Outside a fit job every fit searches; within one, once per distinct catalog.
    assert len(searched) == 4
    for found in (first, second, after):
        assert (found != alone).nnz == 0
    assert smaller.shape[0] == alone.shape[0] - 1
