"""PoseRefiner: model, input encoding, error synthesis, training and batched refinement.

Importing this package (before torch) makes OpenMP threads sleep instead of spin while they wait,
unless ``OMP_WAIT_POLICY`` is set: on a CPU shared with other processes, spinning threads made a
training step 4x slower on the project's 2-core machine (and burnt the CPU the others needed).

The package is ``refiner``, not ``refine``, so that ``poseval_refine.refine`` stays the Python API's
function (docs/python.md) whatever has been imported.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
