"""Reading source files: finding them, decoding them, and parsing YAML and BibTeX with locations."""
