"""Error diagnosis (``prt analyze``): why the number is what it is."""
