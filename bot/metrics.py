"""Prometheus metrics, served at GET /metrics by the HTTP adapter."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("nlpbot_requests_total", "Requests handled, by plugin and outcome", ["plugin", "outcome"])
LATENCY = Histogram(
    "nlpbot_request_seconds",
    "Time from receiving a request to its reply being ready, by plugin",
    ["plugin"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
ACK_SECONDS = Histogram(
    "nlpbot_ack_seconds", "Time to acknowledge a Slack request", buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3)
)
QUEUE_DEPTH = Gauge("nlpbot_queue_depth", "Requests accepted and not yet finished")
REJECTED = Counter("nlpbot_rejected_total", "Requests turned away because the work queue was full")
DUPLICATES = Counter("nlpbot_duplicates_total", "Slack retries and double submits answered once", ["kind"])
BATCH_SIZE = Histogram(
    "nlpbot_batch_size", "Inputs per model call", ["model"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)
MODEL_LOAD_SECONDS = Gauge("nlpbot_model_load_seconds", "Seconds the last load of a model took", ["kind", "model"])
SLACK_API_ERRORS = Counter("nlpbot_slack_api_errors_total", "Slack Web API calls that failed after retries", ["method"])
DEGRADED = Gauge("nlpbot_degraded", "1 while a part of the bot runs degraded (GET /healthz says what and since when)",
                 ["source"])
STATE_OUTAGES = Counter("nlpbot_state_outages_total", "Times the shared state store (Redis) became unreachable")
STATE_FALLBACKS = Counter("nlpbot_state_fallbacks_total", "De-duplications and job claims decided in this process "
                          "alone because the shared state store was unreachable", ["operation"])
FEEDBACK = Counter("nlpbot_feedback_total", "Feedback button clicks stored as labelled examples", ["plugin"])

_children: dict[tuple[int, tuple[str, ...]], object] = {}


def child(metric, *values: str):
    """`metric.labels(*values)`, looked up once: labels() takes a lock and builds its key on every call (per request)."""
    key = (id(metric), values)
    found = _children.get(key)
    if found is None:
        found = _children.setdefault(key, metric.labels(*values))
    return found
