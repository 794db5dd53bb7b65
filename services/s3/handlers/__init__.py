"""Operation handlers of s3, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("s3")
