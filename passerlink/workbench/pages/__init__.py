"""The workbench's pages: one Streamlit script each, routed by ``passerlink/app.py``."""
