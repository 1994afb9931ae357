"""A run: tasks and model specs -> a plan of model runs -> Results (`evaluation.evaluate`), with what it would
send and cost (`estimate`)."""
