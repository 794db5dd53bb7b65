"""Operation handlers of sqs, one module per resource family."""

from shared.handlers import Handlers

from . import messages, permissions, queues, tags, tasks

handles = Handlers("sqs")
for family in (queues, messages, tags, permissions, tasks):
    handles.include(family.handles)
