ITEMS = {1: {"name": "hammer"}, 2: {"name": "nails"}}
