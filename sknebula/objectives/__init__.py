"""Pure torch objectives, one file per method; no sklearn, no skorch."""
