"""pytest plugin (-p scipy_patch): SciPy's own test modules of the softmax family and the
logistic functions, with their imported names rebound to fastsmce.special's."""

import fastsmce.special

NAMES = fastsmce.special.__all__


def pytest_collection_modifyitems(items):
    seen = set()
    for item in items:
        mod = getattr(item, "module", None)
        if mod is None or mod in seen:
            continue
        seen.add(mod)
        for name in NAMES:
            if hasattr(mod, name):
                setattr(mod, name, getattr(fastsmce.special, name))
