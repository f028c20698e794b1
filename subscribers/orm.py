"""Where Tortoise's types fall short, typed once for every layer above.

Tortoise annotates `values_list(..., flat=True)` as returning tuples, though it returns the bare
values; these wrappers say what the query really gives, so the callers need no casts of their own.
"""

from __future__ import annotations

from typing import Any, cast

from tortoise.models import Model
from tortoise.queryset import QuerySet


async def column(query: QuerySet[Any], field: str) -> list[Any]:
    """The values of one column of the query's rows (`values_list(field, flat=True)`)."""
    return cast(list[Any], await query.values_list(field, flat=True))


async def ids(query: QuerySet[Model]) -> list[int]:
    """The primary keys of the query's rows."""
    return [int(value) for value in await column(query, "id")]
