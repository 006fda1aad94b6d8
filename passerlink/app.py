"""The operator workbench's router: the sidebar and login live in ``workbench.ui.frame``; each
page is a file in ``workbench/pages``. Started by ``passerlink workbench --config F`` or by
``streamlit run app.py`` at the repository root (the demo configuration).
"""

import streamlit as st

from passerlink.workbench import ui


def main() -> None:
    st.set_page_config(page_title="Passerlink", page_icon=":material/badge:", layout="wide")
    st.navigation(ui.frame()).run()


if __name__ == "__main__":
    main()
