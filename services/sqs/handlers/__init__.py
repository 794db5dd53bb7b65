"""Operation handlers of sqs, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("sqs")
