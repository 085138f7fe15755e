"""The domain core of rectiflow (整改督办): lifecycle, working days, deadlines, store and services.

This package imports nothing from ``flows``, ``notifications`` or ``app``.
"""
