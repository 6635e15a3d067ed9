"""Service-SLA module glue: workbook layouts, templates, sample generator, run, report."""
