"""Modules a library imports at start-up but a process may never use, imported on first use instead.

Great Expectations imports `scipy.stats` and `altair` when it starts (~1 s of its ~2,6 s import on
this machine), for expectations and renderers this project never runs (the KL-divergence and KS-test
expectations, Altair charts). `defer("scipy.stats", "altair")` before importing it puts a stand-in
module in `sys.modules`; the first attribute read from the stand-in (`stats.entropy`, `alt.Chart`,
`from scipy.stats import norm`) imports the real module and copies it in, so code that does use the
module works unchanged, only later. (`importlib.util.LazyLoader` would be the standard tool, but on
Python 3.11 the import system's own `__spec__` check already triggers its load.)
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types


class DeferredModule(types.ModuleType):
    """Stands in `sys.modules[name]` until an attribute it does not have is read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__spec__ = importlib.machinery.ModuleSpec(name, None)  # what `import name` checks, nothing more

    def __getattr__(self, attribute: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)  # later reads through this stand-in find the real attributes
        return getattr(real, attribute)


def defer(*names: str) -> list[str]:
    """Stand-ins for the modules not imported yet (and installed); the names deferred."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        parent = name.rpartition(".")[0]
        try:
            installed = importlib.util.find_spec(name) is not None  # imports the parent package (cheap)
        except ModuleNotFoundError:
            installed = False
        if installed:
            sys.modules[name] = DeferredModule(name)
            if parent:
                # `from parent import child` reads the attribute first; keep the stand-in there too
                setattr(sys.modules[parent], name.rpartition(".")[2], sys.modules[name])
            deferred.append(name)
    return deferred
