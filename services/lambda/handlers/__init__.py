"""Operation handlers of lambda, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("lambda")
