"""Operation handlers of rds, one module per resource family."""

from shared.handlers import Handlers

from . import parameter_groups

handles = Handlers("rds")
handles.include(parameter_groups.handles)
