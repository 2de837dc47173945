"""What a path, query or form parameter may hold: nothing the database cannot take.

An id beyond its column is not a record anybody has, but the database driver does not say so:
PostgreSQL refuses to bind it ("integer out of range", our keys are 32-bit `integer`), SQLite
anything past 64 bits. So each bound is declared on the parameter: FastAPI answers 422 naming
it before any query runs, and the OpenAPI schema says what is accepted.

Text holding a NUL character (U+0000) is the same kind of value: PostgreSQL can neither store
nor compare it, and nobody types one. `no_nul_characters` refuses it in any parameter of the
routes it guards (the pages router and the routers under it), with a 422 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Query, Request

ID_MAX = 2**31 - 1  # PostgreSQL `integer`: every primary key
PAGE_MAX = 100_000  # far past any archive; keeps an offset a small number

RecordId = Annotated[int, Path(ge=1, le=ID_MAX, description="A record's id (1 to 2³¹−1).")]
PageNumber = Annotated[int, Query(le=PAGE_MAX, description="A page of results, from 1.")]


NUL = "\x00"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def no_nul_characters(request: Request) -> None:
    """422 when a path, query or form parameter holds a NUL character (see the module)."""
    named = [*request.path_params.items(), *request.query_params.multi_items()]
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in _FORMS:
        try:  # parsed already (and cached) for a route with form fields; a broken body is theirs to refuse
            form = await request.form()
        except Exception:
            form = None
        named += [(name, value) for name, value in (form.multi_items() if form else []) if isinstance(value, str)]
    for name, value in named:
        if NUL in str(value):
            raise HTTPException(status_code=422, detail=f"{name} holds a NUL character (\\0): remove it and try again.")
