"""Operation handlers of lambda, one module per resource family."""

from shared.handlers import Handlers

from . import functions

handles = Handlers("lambda")
handles.include(functions.handles)
