"""Plain aligned tables for terminals, shared by the operator CLI and the reports."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]], *, numbers_right: bool = False) -> str:
    """Columns padded to their widest cell, a rule under the header; None prints as "-".

    With `numbers_right`, every column but the first is right-aligned, as figures read best.
    """
    cells = [list(header), *([str(c) if c is not None else "-" for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if numbers_right and i > 0 else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])
