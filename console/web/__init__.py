"""The web console and the JSON API: server-rendered pages (FastAPI + Jinja2) for coordinators,
supervisors, managers, auditors and administrators, on the same operations as the command line.

- :mod:`console.web.app`: ``create_app(rt, settings)``
- :mod:`console.web.settings`: ``PRODUZIR_WEB_*``, the secret key, sessions and lockout
- :mod:`console.web.policy`: the policy table (route name -> roles) and territory scoping
- :mod:`console.web.deps`: the dependencies every route uses (the user, the runtime, a session)
- :mod:`console.web.auth`: logins, server-side sessions, CSRF tokens, API tokens
- :mod:`console.web.account`: the login form, logging out, the user's API tokens
- :mod:`console.web.templating`: ``render`` (pt-BR first, English by the user's language)
- :mod:`console.web.errors`: errors as JSON (API) or as a page
"""
