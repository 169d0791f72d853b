"""PacGAN Table 1 reproduction on the 2D ring and grid (run.py)."""
