"""Reading an LLM's answer strictly: a JSON object `{"queries": ["...", ...]}` (or a JSON list of strings), the
whole answer (a code fence around it is the one allowance), 1 to n non-empty strings. Anything else is a reason,
never a query: free text is not searched for something that looks like one."""

from __future__ import annotations

import json
import re

_FENCE = re.compile(r"\A```(?:json)?\s*\n?(.*?)\n?```\Z", re.S | re.I)


def parse_queries(text: str, n: int) -> tuple[list[str], str]:
    """(the queries, "") or ([], why the answer is not usable: empty, not JSON, wrong shape, too many)."""
    text = text.strip()
    if not text:
        return [], "empty answer"
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return [], "not JSON"
    items = body.get("queries") if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return [], "not a list of queries"
    queries = [" ".join(item.split()) for item in items]
    if not queries or not all(queries):
        return [], "empty answer" if not any(queries) else "an empty query"
    if len(queries) > n:
        return [], f"{len(queries)} queries for {n} asked"
    return queries, ""
