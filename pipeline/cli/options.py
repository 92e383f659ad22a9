"""The options every `churn` command shares: --params, --set, --data, --out, --as-of."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ParamsOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        metavar="PATH",
        help="params.yaml (default ./params.yaml, else packaged defaults).",
    ),
]

SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", metavar="KEY=VALUE", help="Override a setting: dotted.key=value (repeatable)."
    ),
]

DataOpt = Annotated[
    str,
    typer.Option("--data", metavar="DIR", help="Folder (or fsspec URL) holding the input tables."),
]

RunFolderOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        metavar="DIR",
        help="Run folder (default: a new runs/<time>/, then runs/LATEST names it).",
    ),
]

AS_OF_HELP = "Month end, e.g. 2023-12-31 or 2023-12, or `latest` (the data's last month end)."
