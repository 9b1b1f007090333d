"""The SPARQL engine layer: safe, time-limited query execution and result formats.

Below the web layer and above the store: it knows SPARQL (the guard, content negotiation, killing
runaway queries) but nothing of HTTP beyond the status code each error carries.

- ``errors``: every error a request can end in, with its status and client-safe message;
- ``formats``: the result formats (tables) and content negotiation;
- ``guard``: refusing SERVICE off the allow-list, FROM of unknown graphs, and LOAD;
- ``evaluate``: one query run and serialised within a byte limit;
- ``executor`` and ``processes``: the pool of killable worker processes that runs them;
- ``protocol``: the SPARQL 1.1 Protocol's request parsing.
"""
