"""Operation handlers of s3, one module per resource family."""

from shared.handlers import Handlers

from . import buckets, config, listing, locking, multipart, objects, post

handles = Handlers("s3")
handles.include(buckets.handles)
handles.include(objects.handles)
handles.include(listing.handles)
handles.include(multipart.handles)
handles.include(locking.handles)
handles.include(config.handles)
handles.include(post.handles)
