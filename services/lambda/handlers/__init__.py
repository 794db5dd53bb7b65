"""Operation handlers of lambda, one module per resource family."""

from shared.handlers import Handlers

from . import (
    account,
    aliases,
    code_signing,
    concurrency,
    event_configs,
    functions,
    invoke,
    layers,
    mappings,
    permissions,
    tags,
    urls,
    versions,
)

handles = Handlers("lambda")
handles.include(functions.handles)
handles.include(versions.handles)
handles.include(aliases.handles)
handles.include(layers.handles)
handles.include(invoke.handles)
handles.include(mappings.handles)
handles.include(permissions.handles)
handles.include(tags.handles)
handles.include(concurrency.handles)
handles.include(event_configs.handles)
handles.include(urls.handles)
handles.include(code_signing.handles)
handles.include(account.handles)
