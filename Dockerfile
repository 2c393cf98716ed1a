# The help desk bot in a container: slim Python, a non-root user, the database on a volume, a health check.
#   docker build -t ej-helpdesk .
#   docker run -d --name ej-helpdesk --restart=on-failure --env-file .env -v ej-helpdesk-data:/data ej-helpdesk
# The bot exits non-zero on any failure it cannot fix itself (README, "Failing loudly"): the restart policy
# brings it back, and `docker logs` shows the one line that says why.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/helpdesk.sqlite3

WORKDIR /app
RUN groupadd --system --gid 10001 ejbot \
    && useradd --system --uid 10001 --gid ejbot --home-dir /app --shell /usr/sbin/nologin ejbot \
    && mkdir /data && chown ejbot:ejbot /data

COPY . /app
RUN pip install -e . && python -m helpdesk.texts compile

USER ejbot
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["python", "main.py", "health"]
CMD ["python", "main.py", "run"]
