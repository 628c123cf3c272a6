# The serving image: the locked environment, the package and the thin BentoML services.
# One container per service: SERVICE=Recommender (port 3000) or SERVICE=Bitrate.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REELOPS_PROFILE=production \
    REELOPS_HOME=/var/lib/reelops \
    BENTOML_HOME=/var/lib/reelops/bentoml \
    SERVICE=Recommender \
    PORT=3000

RUN useradd --create-home --uid 10001 reelops \
    && mkdir -p /var/lib/reelops && chown reelops /var/lib/reelops

WORKDIR /opt/reelops
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir uv==0.9.30 \
    && uv pip install --system --no-cache -r requirements.lock

COPY reelops ./reelops
COPY feature_repo ./feature_repo
COPY models ./models
COPY serving ./serving
# Editable, so the package finds the project beside it (reelops.config.PROJECT_ROOT is
# /opt/reelops): a plain install would look for dags/, dbt/ and feature_repo/ in
# site-packages, where dbt/ is the dbt package itself.
RUN uv pip install --system --no-cache --no-deps -e .

USER reelops
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz', timeout=2)"
# API keys come from REELOPS_API_KEYS (the production profile refuses to start without).
CMD ["sh", "-c", "exec bentoml serve serving.service:${SERVICE} --host 0.0.0.0 --port ${PORT}"]
