"""Operation handlers of rds, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("rds")
