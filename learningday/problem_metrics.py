"""Delivery problems in `/metrics`, read from the database at scrape time.

The counter `learningday_delivery_problems_total` counts what this process recorded; a worker
and the web app are separate processes, so the web's `/metrics` would show none of the worker's.
This gauge is the installation-wide truth: every problem recorded, by step, whoever recorded it.
A database that does not answer leaves the gauge out of that scrape rather than failing it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from learningday.db.engine import session_scope
from learningday.db.models import DeliveryProblem

log = logging.getLogger(__name__)


def _family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "learningday_delivery_problems_recorded",
        "Delivery problems recorded in the database (all processes), by step: see /problems.",
        labels=["step"],
    )


class DeliveryProblemsCollector(Collector):
    def describe(self) -> Iterator[Metric]:
        """The family without values: registering must not touch the database."""
        yield _family()

    def collect(self) -> Iterator[Metric]:
        gauge = _family()
        try:
            with session_scope() as session:
                counts = session.execute(
                    select(DeliveryProblem.step, func.count()).group_by(DeliveryProblem.step)
                ).all()
        except SQLAlchemyError as error:
            log.warning("delivery problems not in this scrape: the database did not answer (%s)", type(error).__name__)
            return
        for step, count in counts:
            gauge.add_metric([step], count)
        yield gauge


_registered = False


def register() -> None:
    """Add the collector to the process-wide registry once (web app and worker probes share it)."""
    global _registered
    if not _registered:
        REGISTRY.register(DeliveryProblemsCollector())
        _registered = True
