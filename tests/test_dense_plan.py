"""Dense search under filters: the over-fetch plan returns what Chroma's filtered query does."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.stores.chroma import passage_from_metadata

SCOPES = [
    SearchFilters(),
    SearchFilters.make("rudaw"),
    SearchFilters.make(["cnn.com", "usatoday.com"]),
    SearchFilters.make(since=date(2022, 7, 1), until=date(2022, 7, 31)),
    SearchFilters(since=date(2022, 9, 1), include_undated=True),
    SearchFilters.make("sport daily", since=date(2022, 9, 25), until=date(2022, 9, 25)),
    SearchFilters.make(since=date(2030, 1, 1)),
]


@pytest.mark.parametrize("overfetch", [2, 3, 8])
@pytest.mark.parametrize("n", [1, 2, 4])
def test_overfetch_plan_matches_filtered_queries(shared_index: NewsIndex, overfetch: int,
                                                 n: int) -> None:
    store = shared_index.store
    vector = shared_index.embedder.embed_query("troops and records in July")
    try:
        store.overfetch = 0
        expected = [store.query(vector, n, scope) for scope in SCOPES]
        store.overfetch = overfetch
        got = store.query_scopes(vector, n, SCOPES, share=lambda _scope: 1.0)  # always pool
        assert store.query_scopes(vector, n, SCOPES, share=shared_index.keyword.share) == got
    finally:
        store.overfetch = type(store).overfetch
    for scope, want, have in zip(SCOPES, expected, got, strict=True):
        assert [p.chunk_id for p in have] == [p.chunk_id for p in want], scope
        assert [round(p.dense or 0, 5) for p in have] == [round(p.dense or 0, 5) for p in want]
        assert all(scope.admits(p.source, p.published) for p in have)


def test_admits_agrees_with_the_chroma_filter(shared_index: NewsIndex) -> None:
    passages = [passage_from_metadata(cid, text, meta)
                for cid, text, meta in shared_index.store.iter_chunks()]
    for scope in SCOPES:
        where = scope.chroma_where()
        allowed = (set(shared_index.store.chunks.get(where=where, include=[])["ids"]) if where
                   else {p.chunk_id for p in passages})
        admitted = {p.chunk_id for p in passages if scope.admits(p.source, p.published)}
        assert admitted == allowed, scope


def test_short_date_ranges_are_sent_as_a_list_of_days() -> None:
    where = SearchFilters.make(since=date(2022, 7, 1), until=date(2022, 7, 14)).chroma_where()
    assert where is not None and len(where["day"]["$in"]) == 14
    long = SearchFilters.make(since=date(2020, 1, 1), until=date(2022, 1, 1)).chroma_where()
    assert long == {"$and": [{"day": {"$gte": 18262}}, {"day": {"$lte": 18993}}]}
