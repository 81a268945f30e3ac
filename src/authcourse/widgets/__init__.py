"""The course's ipywidgets: each one is state plus a plain function that the notebook can also call."""
