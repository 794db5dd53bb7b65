# Flotilla images: one stage per service, the gateway, the init-hook runner and an all-in-one image.
#
#   docker build --target s3 -t flotilla/s3:dev .          (compose.yaml builds every target)
#   docker build --target all-in-one -t flotilla/all-in-one:dev .
#   docker run --rm -p 4566:4566 flotilla/all-in-one:dev
#
# Layering, so that a code change rebuilds in seconds: dependencies are installed from a
# requirements list generated from pyproject.toml alone (code changes never invalidate it), then
# each stage copies only the code its service imports. Stages build in file order with the classic
# builder, so the slow all-in-one stage (apt-get) comes last. Works with the classic builder and
# BuildKit alike (no --mount, no heredocs).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- python: the runtime every image shares (user, dirs, env, healthcheck) ------------------------
FROM ${PYTHON_IMAGE} AS python
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    FLOTILLA_DATA_DIR=/data
RUN groupadd --system --gid 10001 flotilla \
 && useradd --system --uid 10001 --gid flotilla --home-dir /app --no-create-home flotilla \
 && mkdir -p /app /data \
 && chown flotilla:flotilla /data
WORKDIR /app
COPY docker/requirements.py /usr/local/lib/flotilla/requirements.py
COPY pyproject.toml /tmp/pyproject.toml
EXPOSE 4566

# ---- base: every service's dependencies (from pyproject.toml only: a code change keeps this layer) ----
FROM python AS base
RUN python /usr/local/lib/flotilla/requirements.py /tmp/pyproject.toml > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm -rf /root/.cache
COPY docker/healthcheck.py /usr/local/lib/flotilla/healthcheck.py
COPY services/__init__.py /app/services/__init__.py
COPY shared /app/shared
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-S", "/usr/local/lib/flotilla/healthcheck.py", "/_flotilla/health"]

# ---- gateway: imports only gateway/ and the ASGI server ---------------------------------------------
FROM python AS gateway
RUN python /usr/local/lib/flotilla/requirements.py /tmp/pyproject.toml uvicorn > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm -rf /root/.cache
COPY docker/healthcheck.py /usr/local/lib/flotilla/healthcheck.py
COPY gateway /app/gateway
USER flotilla
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-S", "/usr/local/lib/flotilla/healthcheck.py", "/_flotilla/ping"]
CMD ["uvicorn", "--factory", "gateway.app:app_from_env", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

# ---- one stage per service: shared/ + its own folder ------------------------------------------------
FROM base AS s3
COPY services/s3 /app/services/s3
USER flotilla
CMD ["uvicorn", "--factory", "services.s3.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

FROM base AS sqs
COPY services/sqs /app/services/sqs
USER flotilla
CMD ["uvicorn", "--factory", "services.sqs.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

FROM base AS dynamodb
COPY services/dynamodb /app/services/dynamodb
USER flotilla
CMD ["uvicorn", "--factory", "services.dynamodb.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

# Lambda, EC2 and RDS stay root: they start sibling containers through the mounted Docker socket.
FROM base AS lambda
COPY services/lambda /app/services/lambda
CMD ["uvicorn", "--factory", "services.lambda.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

FROM base AS ec2
COPY services/ec2 /app/services/ec2
CMD ["uvicorn", "--factory", "services.ec2.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

FROM base AS rds
COPY services/rds /app/services/rds
CMD ["uvicorn", "--factory", "services.rds.app:create_app", "--host", "0.0.0.0", "--port", "4566", \
     "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--timeout-graceful-shutdown", "5"]

# ---- init: runs ./init/ready.d hooks once the fleet is ready, with the AWS CLI (and awslocal) ------
# Built on the python stage with botocore's pinned range, so the CLI matches the fleet's models.
FROM python AS init
RUN python /usr/local/lib/flotilla/requirements.py /tmp/pyproject.toml botocore awscli boto3 > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm -rf /root/.cache
COPY docker/init-hooks.py /usr/local/lib/flotilla/init-hooks.py
COPY docker/awslocal /usr/local/bin/awslocal
RUN mkdir -p /etc/flotilla/init/ready.d /etc/localstack/init/ready.d
ENV AWS_ENDPOINT_URL=http://gateway:4566 \
    AWS_ACCESS_KEY_ID=test \
    AWS_SECRET_ACCESS_KEY=test \
    AWS_DEFAULT_REGION=us-east-1 \
    AWS_REGION=us-east-1 \
    AWS_PAGER=""
HEALTHCHECK --interval=1s --timeout=2s --retries=600 CMD ["test", "-f", "/tmp/flotilla-init-done"]
CMD ["python", "/usr/local/lib/flotilla/init-hooks.py"]

# ---- all-in-one: Redis and every service as processes in one container (`flotilla dev`) ----------
FROM base AS all-in-one
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
COPY services /app/services
COPY gateway /app/gateway
COPY flotilla /app/flotilla
RUN chown -R flotilla:flotilla /data
USER flotilla
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-S", "/usr/local/lib/flotilla/healthcheck.py", "--fleet", "/_flotilla/health"]
CMD ["python", "-m", "flotilla.cli", "dev", "--host", "0.0.0.0", "--port", "4566", "--data-dir", "/data"]
