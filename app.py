"""Entry point: `uv run streamlit run app.py` and `uvicorn app:app` serve the same thing."""

import streamlit as st
from starlette.routing import Mount

from predictions_core.api import create_api

app = st.App("app.py", routes=[Mount("/api", app=create_api())])

if __name__ == "__main__":
    st.title("Predictions")
    st.write("hello")
