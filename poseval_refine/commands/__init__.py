"""One module per ``prt`` sub-command; each defines ``command``. See ``poseval_refine.cli``."""

#: the command line of the running ``prt`` invocation (set by ``cli.main``; stored in result provenance)
INVOCATION: list[str] | None = None
