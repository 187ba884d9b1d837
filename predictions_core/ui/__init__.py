"""Streamlit UI helpers of the dashboard pages."""
