"""``PRT_DATA=DIR python -m poseval_refine.results regenerate [STORE]``: rewrite stored results from their inputs."""

import sys

from .store import regenerate

if sys.argv[1:2] == ["regenerate"]:
    for p in regenerate(sys.argv[2] if len(sys.argv) > 2 else None):
        print(p)
else:
    print("usage: PRT_DATA=DIR python -m poseval_refine.results regenerate [STORE_DIR]", file=sys.stderr)
    sys.exit(2)
