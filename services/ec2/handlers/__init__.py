"""Operation handlers of ec2, one module per resource family."""

from shared.handlers import Handlers

handles = Handlers("ec2")
