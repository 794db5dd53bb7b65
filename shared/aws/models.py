"""botocore's bundled service models, loaded once per process."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.model import OperationModel, ServiceModel


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of ``name`` (``s3``, ``sqs``, ``dynamodbstreams`` ...)."""
    return _session().get_service_model(name)


def operation(service: str, name: str) -> OperationModel:
    return service_model(service).operation_model(name)


def error_shapes(model: ServiceModel) -> dict[str, object]:
    """Modelled error shapes of a service by shape name."""
    return {s.name: s for s in model.error_shapes}
