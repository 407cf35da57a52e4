"""The PM's desk: a local web app over the public API (Streamlit; ``pip install "krg-liquidity[app]"``).

``inputs`` reads uploads and validates the book, ``solve`` runs the requests under the time
budget, ``views`` and ``page`` lay out the page; ``page.py`` is the script Streamlit runs
(``krg-liquidity app``, see :mod:`krg_liquidity.cli.app_command`). Only ``views`` and ``page``
import Streamlit.
"""

from pathlib import Path

PAGE = Path(__file__).resolve().parent / "page.py"
