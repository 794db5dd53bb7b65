"""The AWS wire layer: one request parser and one response serializer per protocol.

Contract (the app factory and the conformance tests rely on exactly this):

    parser = create_parser(service_model, protocol=None, *, bad_value=None)  # protocol: the model's
    op = parser.operation_for(request)      # OperationModel; raises AwsError when no operation matches
    params = parser.parse(op, request)      # dict shaped as op.input_shape; raises AwsError on bad input

    serializer = create_serializer(service_model, protocol=None)
    response = serializer.serialize(op, output, request_id)             # HttpResponse
    response = serializer.serialize_error(error, op_or_None, request_id)  # HttpResponse

An unreadable header, query-string or URI-label value is a ``BadValue`` (location, wire name,
value, type) inside the parser; ``bad_value(exc)`` may return the service's ``AwsError`` for it
(None: the protocol's own answer: InvalidArgument for rest-xml, the bad-input error elsewhere).

``protocol`` lets one model be spoken in another protocol: SQS's model is ``json`` but older
SDKs and hand-written form posts speak ``query`` to the same operations.

For rest protocols ``operation_for`` needs only method, path and query (not the body), so
the app factory can decide whether to stream the body before reading it.
"""

from __future__ import annotations

from botocore.model import ServiceModel

from .parser import BadValue, BadValueMapper, RequestParser, create_parser
from .serializer import ResponseSerializer, create_serializer

__all__ = [
    "BadValue",
    "BadValueMapper",
    "RequestParser",
    "ResponseSerializer",
    "create_parser",
    "create_serializer",
    "ServiceModel",
]
