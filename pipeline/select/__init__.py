"""`bulkcancel select` (SPEC §15): find the shop's orders that hold some SKUs, write an input file."""
