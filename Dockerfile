# One image for every Athena process (subgraphs, router, migrations); the
# compose service's command picks which. Dependencies come from the hashed
# requirements.lock, so the image runs exactly what CI tested.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN pip install --no-cache-dir uv==0.13.8

WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN uv pip install --system --require-hashes --no-cache -r requirements.lock

COPY . .

RUN useradd --system --uid 10001 --no-create-home athena \
    && mkdir -p /app/.data/documents && chown -R athena /app/.data
# .data (Settings.data_dir) is the one place a process writes; the documents
# volume mounted there starts with this ownership
USER athena

CMD ["python", "-m", "router", "--supergraph", "schema/supergraph.graphql", "--port", "4000"]
