"""Kivy presentation layer: one screen per journey step."""
