"""Property-based tests of every library parser (issue 10, hostile input).

They run in `make test` under the "ccinspect-fuzz" profile: a small, derandomized budget so the whole
folder stays well under a minute on two cores. `HYPOTHESIS_PROFILE=ccinspect-fuzz-long pytest tests/fuzz`
explores more (random seeds, more examples) when hunting for bugs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
               print_blob=True)
settings.register_profile("ccinspect-fuzz", max_examples=50, derandomize=True, database=None, **_COMMON)
settings.register_profile("ccinspect-fuzz-long", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ccinspect-fuzz"))


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh directory per example (pytest's tmp_path is per test, not per generated input)."""
    with tempfile.TemporaryDirectory(prefix="ccinspect-fuzz-") as d:
        yield Path(d)
