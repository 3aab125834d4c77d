"""The `{id:row_id}` path parameter of the API's routes: a row's id (`row_path`).

Starlette's `int` takes any run of digits, and a number past the id column's range (PostgreSQL's
`integer`, the smaller of the two databases) makes the driver raise: a 500. No row has such an
id, so it is read as 0, which no row has either, and the route answers its own 404.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

ROW_ID = "row_id"
MAX_ROW_ID = 2**31 - 1  # an `integer` column, on PostgreSQL and SQLite alike
NO_ROW = 0  # ids count from 1


class RowIdConvertor(Convertor[int]):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ROW_ID else NO_ROW

    def to_string(self, value: int) -> str:
        return str(value)


# Routes look their convertor up by name when they are built: importing this module registers it.
register_url_convertor(ROW_ID, RowIdConvertor())


def row_path(collection: str) -> str:
    """`/api/v1/maintenance/{id:row_id}` for `/api/v1/maintenance`."""
    return f"{collection}/{{id:{ROW_ID}}}"
