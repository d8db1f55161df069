"""The main window: it composes the image, lesion, response and dialog packages.

Owns: ``window`` (CaliperMainWindow), ``actions`` (menus, toolbars, shortcuts), ``pacs`` and
``trial`` (menu handlers), ``patient_browser``.  May import every other ``viewer`` package and the
``app`` controllers.  Nothing in ``viewer`` imports it back.
"""
