"""The site: every output path known up front, and the links between pages."""
