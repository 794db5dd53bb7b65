"""Operation handlers of ec2, one module per resource family."""

from shared.handlers import Handlers

from . import regions, vpcs

handles = Handlers("ec2")
handles.include(regions.handles)
handles.include(vpcs.handles)
