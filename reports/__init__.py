"""Quarterly reports: report model, Jinja2 templates, Plotly charts, HTML/PDF/XLSX renderers."""
