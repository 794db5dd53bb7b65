"""Operation handlers of sqs, one module per resource family."""

from shared.handlers import Handlers

from . import messages, queues

handles = Handlers("sqs")
handles.include(queues.handles)
handles.include(messages.handles)
