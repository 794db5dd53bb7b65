"""Operation handlers of dynamodb, one module per resource family."""

from shared.handlers import Handlers

from . import batches, items, meta, partiql, query, streams, tables, transactions

handles = Handlers("dynamodb")
handles.include(tables.handles)
handles.include(meta.handles)
handles.include(items.handles)
handles.include(query.handles)
handles.include(batches.handles)
handles.include(transactions.handles)
handles.include(streams.handles)
handles.include(partiql.handles)
