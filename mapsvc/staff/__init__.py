"""The staff portal: server-rendered pages for municipal staff and the prefecture's admins.

``routers/`` (sign-in, datasets, administration), ``access`` (who may do what), ``pages``
(rendering, language, error pages), ``text`` (every string in ja/en), ``templates/`` and
``static/``. It calls the same use cases as the JSON API and imports no SQL.
"""
