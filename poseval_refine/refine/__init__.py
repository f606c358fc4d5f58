"""PoseRefiner: model, input encoding, error synthesis, training and batched refinement.

Importing this package (before torch) makes OpenMP threads sleep instead of spin while they wait,
unless ``OMP_WAIT_POLICY`` is set: on a CPU shared with other processes, spinning threads made a
training step 4x slower on the project's 2-core machine (and burnt the CPU the others needed).

``poseval_refine.refine`` is also the Python API's function (docs/python.md): once this package is
imported, Python makes it the parent's attribute ``refine``, so the package itself is callable and a
call is ``poseval_refine.api.refine``.
"""

import os
import sys
import types

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from ..api import refine

        return refine(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
