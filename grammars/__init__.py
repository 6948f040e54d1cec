"""The Lark grammars guidegen ships, as package data: read one with :func:`guidegen.shipped_grammar`."""
