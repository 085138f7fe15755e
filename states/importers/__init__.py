"""Intake (导入): supervision lists (xlsx/csv) and notice texts become items, all or nothing.

Parsers (:mod:`.table`, :mod:`.text`) turn a file into :class:`~.model.ParsedImport` without
touching the database; :mod:`.apply` resolves departments and leaders and writes the items in
one transaction through :func:`states.intake.create_items`.
"""
