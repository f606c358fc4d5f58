"""The shipped result files (one JSON per method, benchmark and task), installed as
``poseval_refine.shipped_results``; the code that reads them is ``poseval_refine.results``."""
