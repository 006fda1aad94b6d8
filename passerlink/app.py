"""The operator workbench (``streamlit run passerlink/app.py -- --config F``): a short router.

The sidebar and login live in ``workbench.ui.frame``; each page is a file in ``workbench/pages``.
"""

import streamlit as st

from passerlink.workbench import ui

st.set_page_config(page_title="Passerlink", page_icon=":material/badge:", layout="wide")
st.navigation(ui.frame()).run()
