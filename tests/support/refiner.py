"""What the refiner's end-to-end tests share: the tiny model's scale and the options that make it move joints."""

SCALE = 0.15
#: the official code moves every joint; the tiny test model's calibrated rules may keep them all in place
MOVE_ALL = ["--keep-below", "0", "--min-move", "0"]
