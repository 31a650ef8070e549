"""Meta-analysis for a review. The statistics live in `analysis.engine`."""
