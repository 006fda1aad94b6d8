"""``streamlit run app.py``: the workbench on the demo configuration (Streamlit's convention).

``passerlink workbench --config F`` is the way for a site's own configuration; this file only
points the workbench at ``data/samples/demo.toml`` when no configuration is named in
``PASSERLINK_CONFIG``, then hands over to ``passerlink/app.py``.
"""

import os
from pathlib import Path

from passerlink.workbench.state import CONFIG_ENV

os.environ.setdefault(CONFIG_ENV, str(Path(__file__).resolve().parent / "data" / "samples" / "demo.toml"))

from passerlink.app import main  # noqa: E402  (after the configuration is named)

main()
