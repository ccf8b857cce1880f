"""Blind double annotation: one Label Studio server per annotator (a "desk"), routed and merged by the toolkit.

Why one server per annotator: on one Community Edition server nothing keeps annotators apart. Every member of an
organization reaches all of it, and annotators in separate organizations still read each other's annotations by id
(``GET /api/annotations/<id>/`` has no organization filter in 1.23.2) or by moving themselves into another
organization (``PATCH /api/users/<own id>/`` accepts ``active_organization``), both seen on 1.23.2;
tests/test_blind.py shows the one-organization case on the shared server.
A desk's server holds only its annotator's account and their copy of the project, so another annotator has no
account there at all. docs/BLIND_ANNOTATION.md says what holds and what does not.

``record`` (what ``blind.json`` remembers), ``routing`` (which articles go to whom, pure), ``desks`` (each desk's
server, account and client), ``sync`` (projects and tasks kept in step), ``status`` and ``pull`` (read back and merged).
"""
