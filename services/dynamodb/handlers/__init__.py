"""Operation handlers of dynamodb, one module per resource family."""

from shared.handlers import Handlers

from . import items, tables

handles = Handlers("dynamodb")
handles.include(tables.handles)
handles.include(items.handles)
