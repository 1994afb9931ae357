"""Human-facing views of `Results`: tables now, plots and HTML later."""
