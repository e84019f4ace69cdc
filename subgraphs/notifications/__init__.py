"""Notifications: every message the business sends, preferences honoured, delivery tracked."""
