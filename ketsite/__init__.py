"""ketsite: a static evidence-site generator for ketamine and chronic pain.

Data flows one way: sources (yaml, bib) → model → site (routes) → render → output / bundle.
"""

__version__ = "0.1.0"
