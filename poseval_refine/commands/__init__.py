"""One module per ``prt`` sub-command; each defines ``command``. See ``poseval_refine.cli``."""
