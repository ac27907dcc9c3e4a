"""Input / output in other formats: Excel workbooks (:mod:`liqstress.io.excel`)."""
