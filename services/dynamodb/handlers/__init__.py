"""Operation handlers of dynamodb, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("dynamodb")
