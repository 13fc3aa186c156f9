"""The paths of the fused linear cross-entropy: `lce_path` runs a test once on each.

- "auto": the default choice (every row's logits at once when they fit the budget, as
  they do at these test sizes);
- "rows": chunks of rows with all their logits, forced with a budget of 3 rows;
- "blocks": two sweeps over blocks of classes, forced with blocks of 5 classes and a
  budget of 60 bytes of logits (3 rows a chunk in float32, 1 in float64), so that every
  test crosses block and row-chunk boundaries, V is no multiple of the block, and the
  statistics fold over many blocks.
"""

import pytest

from fastsmce import _core


@pytest.fixture(params=["auto", "rows", "blocks"])
def lce_path(request):
    path = request.param
    if path == "auto":
        yield path
        return
    old = (_core._set_linear("path", 1 if path == "rows" else 2),
           _core._set_linear("block", 5),
           _core._set_linear("budget", 60 if path == "blocks" else 1))
    try:
        yield path
    finally:
        _core._set_linear("path", old[0])
        _core._set_linear("block", old[1])
        _core._set_linear("budget", old[2])
