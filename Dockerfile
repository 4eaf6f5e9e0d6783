# The Duskwatch worker image: the package, its mappings and dashboards, nothing else.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY exporter ./exporter
COPY mappings ./mappings
COPY dashboards ./dashboards
RUN pip install --no-cache-dir . && useradd --system --no-create-home duskwatch
USER duskwatch
ENV DUSKWATCH_MAPPINGS=/app/mappings \
    DUSKWATCH_OPENSEARCH_URL=http://opensearch:9200 \
    DUSKWATCH_LOGGING_FORMAT=json
ENTRYPOINT ["duskwatch"]
CMD ["--help"]
