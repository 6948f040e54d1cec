"""guidegen's first-party plugins. Each module is registered through the ``guidegen`` entry-point
group, exactly like a third party's plugin, and uses only the public hooks."""
