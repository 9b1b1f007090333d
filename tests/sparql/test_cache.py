"""The result cache: keys that ignore layout, a byte bound with least-recently-used eviction, clearing by writes."""

from __future__ import annotations

from kgraph.sparql.cache import ENTRY_OVERHEAD, CachedResult, ResultCache
from kgraph.sparql.evaluate import QueryRequest

QUERY = "SELECT * WHERE { ?s ?p ?o }"


def result(size: int) -> CachedResult:
    return CachedResult(b"x" * size, "text/csv; charset=utf-8")


def test_the_key_ignores_layout_and_comments_not_the_dataset_format_or_inference() -> None:
    cache = ResultCache(1 << 20)
    key = cache.key(QueryRequest(QUERY), infer=True)
    assert cache.key(QueryRequest("SELECT *  # all\nWHERE {?s ?p ?o}"), infer=True) == key
    assert cache.key(QueryRequest(QUERY), infer=False) != key
    assert cache.key(QueryRequest(QUERY, default_graph=["http://g"]), infer=True) != key
    assert cache.key(QueryRequest(QUERY, accept="text/csv"), infer=True) != key
    assert cache.key(QueryRequest(QUERY, plan=False), infer=True) != key


def test_hits_and_misses_are_counted_and_the_body_comes_back_as_stored() -> None:
    cache = ResultCache(1 << 20)
    key = cache.key(QueryRequest(QUERY), infer=True)
    assert cache.get(key) is None
    cache.put(key, result(10))
    assert cache.get(key) == result(10)
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)


def test_the_least_recently_used_results_go_first_past_the_bound() -> None:
    cost = 100 + len("q0") + ENTRY_OVERHEAD
    cache = ResultCache(3 * cost)
    keys = [("q" + str(i), None, True, None, None, True, 0) for i in range(4)]
    for key in keys[:3]:
        cache.put(key, result(100))
    cache.get(keys[0])
    cache.put(keys[3], result(100))
    assert [cache.get(key) is not None for key in keys] == [True, False, True, True]
    assert cache.size == 3 * cost


def test_a_result_larger_than_the_bound_is_not_kept() -> None:
    cache = ResultCache(1000)
    key = cache.key(QueryRequest(QUERY), infer=True)
    cache.put(key, result(1000))
    assert (len(cache), cache.size) == (0, 0)


def test_clear_forgets_everything_and_refuses_results_computed_before_it() -> None:
    cache = ResultCache(1 << 20)
    before = cache.key(QueryRequest(QUERY), infer=True)
    cache.put(before, result(5))
    cache.clear()
    assert len(cache) == 0
    cache.put(before, result(5))  # a query that was running while the write landed
    assert len(cache) == 0
    after = cache.key(QueryRequest(QUERY), infer=True)
    cache.put(after, result(5))
    assert cache.get(after) == result(5)


def test_a_query_calling_another_endpoint_is_never_kept() -> None:
    cache = ResultCache(1 << 20)
    remote = "SELECT * WHERE { SERVICE <http://localhost:7878/query> { ?s ?p ?o } }"
    key = cache.key(QueryRequest(remote), infer=True)
    assert key is None
    cache.put(key, result(10))
    assert (cache.get(key), len(cache), cache.misses) == (None, 0, 1)
    in_a_string = 'SELECT * WHERE { ?s ?p "SERVICE" }'
    assert cache.key(QueryRequest(in_a_string), infer=True) is not None
