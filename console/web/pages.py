"""The console's pages, one router: the app includes it (``console.web.app.ROUTERS``).

======================================  =====================  ==================================
page                                    route name             module
======================================  =====================  ==================================
``GET /``                               ``board``              :mod:`console.web.pages_board`
``GET /due``                            ``due``                :mod:`console.web.pages_board`
``GET /bulk``, ``POST /bulk``           ``bulk``,              :mod:`console.web.pages_board`
                                        ``bulk.apply``
``GET /cases/{case_id}``                ``case``               :mod:`console.web.pages_case`
``POST /cases/{case_id}/advance``       ``case.advance``       :mod:`console.web.pages_case`
``GET /cases/{case_id}/surveys``,      ``case.surveys``,      :mod:`console.web.pages_surveys`
``POST /cases/{case_id}/surveys``       ``case.surveys.record``
``GET /audit/cases/{case_id}``          ``audit.case``         :mod:`console.web.pages_audit`
``GET /audit/verify``                   ``audit.verify``       :mod:`console.web.pages_audit`
``GET /audit/export``                   ``audit.export``       :mod:`console.web.pages_audit`
``GET /audit/access-log``               ``audit.access_log``   :mod:`console.web.pages_audit`
``GET /lifecycle``                      ``lifecycle``          :mod:`console.web.pages_charts`
``GET /indicators``                     ``indicators``         :mod:`console.web.pages_charts`
======================================  =====================  ==================================

Who may open each is the policy table (:data:`console.web.policy.POLICY`), checked before the
route runs; the territory of a ``{case_id}`` too. Pages are server-rendered (Jinja2 templates in
``templates/web``, extending ``web/page.html``), in Portuguese first, and call the same
operations as the command line.
"""

from __future__ import annotations

from fastapi import APIRouter

from console.web import pages_audit, pages_board, pages_case, pages_charts, pages_surveys

router = APIRouter(include_in_schema=False)
for module in (pages_board, pages_case, pages_surveys, pages_audit, pages_charts):
    router.include_router(module.router)
