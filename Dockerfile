FROM python:3.11-slim

WORKDIR /app
COPY . .
# The same install as the README's quickstart.
RUN pip install --no-cache-dir -e .

# Monitors, results and history live in the SQLite file under data/.
VOLUME ["/app/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/healthz')"

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
