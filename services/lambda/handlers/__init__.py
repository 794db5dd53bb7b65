"""Operation handlers of lambda, one module per resource family."""

from shared.handlers import Handlers

from . import functions, invoke

handles = Handlers("lambda")
handles.include(functions.handles)
handles.include(invoke.handles)
