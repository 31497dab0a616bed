"""The content model: typed, validated entities linked by id, and the indexes derived from them."""
