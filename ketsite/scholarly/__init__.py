"""Scholarly metadata of papers: CSL-JSON items, formatted citations, exports, page metadata."""
