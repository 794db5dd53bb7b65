"""Operation handlers of s3, one module per resource family."""

from shared.handlers import Handlers

from . import buckets, listing, objects

handles = Handlers("s3")
handles.include(buckets.handles)
handles.include(objects.handles)
handles.include(listing.handles)
