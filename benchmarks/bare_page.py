"""The floor for `bench_browser.py`: a bare Streamlit page of 50 text cards and a Next button.

Nothing else: no sidebar, no filters, no widgets per card, no HTML. Each card is a bordered
container holding one text element: its number (`#51`) and a passage of climate-policy text
from `benchmarks/synthetic.py` (the texts of the large benchmark data, ~600 characters on
average). Next shows the next 50.

    uv run streamlit run benchmarks/bare_page.py
"""

import sys
from pathlib import Path

import orjson
import streamlit as st

# `streamlit run` puts this script's folder on sys.path, not the repository's root
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic import iter_synthetic_lines  # noqa: E402

PAGE_SIZE = 50
N_PASSAGES = 1_000


@st.cache_resource
def passages() -> list[str]:
    """The same texts on every run (seeded), read once per server."""
    return [orjson.loads(line)["text"] for line in iter_synthetic_lines(N_PASSAGES, seed=7)]


def next_page() -> None:
    st.session_state.bare_page = st.session_state.get("bare_page", 0) + 1


def main() -> None:
    texts = passages()
    page = st.session_state.get("bare_page", 0) % (len(texts) // PAGE_SIZE)
    first = page * PAGE_SIZE
    for number, text in enumerate(texts[first : first + PAGE_SIZE], start=first + 1):
        with st.container(border=True):
            st.text(f"#{number}\n{text}")
    st.button("Next ›", on_click=next_page)


if __name__ == "__main__":  # `streamlit run` runs it as __main__; importing it draws nothing
    main()
