"""Synk / Sync: what has been handed to the link store – the links the nightly sync will act on.

Kept on its own so the sync engine's plan preview, runs and reports can be added here.
"""

import streamlit as st

from passerlink.matching.linkstore import LINK_DECISIONS
from passerlink.workbench import ui
from passerlink.workbench.linktable import merge_links, with_people

t = ui.t
ws = ui.workspace_or_stop()

st.title(t("sync_title"))
st.caption(t("sync_intro"))

current = ws.store.current()
links = merge_links(None, current)
links = links[links["decision"].isin(LINK_DECISIONS)]
if not len(links):
    st.info(t("sync_empty"))
    st.stop()
counts = links["decision"].value_counts()
st.markdown(t("sync_counts", links=len(links), confirmed=int(counts.get("confirmed", 0)),
              manual=int(counts.get("manual", 0)), auto=int(counts.get("auto", 0))))
registers, m5 = ws.people()
ui.show_people(with_people(links, registers, m5),
               ["register", "source_id", "given_names", "family_name", "m5_id", "m5_given_names",
                "m5_family_name", "decision", "who", "at"], key="pl_sync_links", height=420)
