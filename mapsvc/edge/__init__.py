"""The edge: pure ASGI middleware in front of both front ends, one per module.

Credentials before bodies (``credentials_first``, asking each front end's gate), body size and
pace (``body_size``), HEAD as GET, compression, the response cache, overload shedding, request
hygiene, request metrics and the access log, security headers. ``refusal`` is how each answers
before the app has run. Nothing here knows a route; nothing here imports the staff portal.
"""
