"""Course operations at scale: batch grading, feedback, nbgrader's gradebook, Gradescope, Dask."""
