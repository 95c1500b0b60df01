"""The wire layer, at the bottom beside the models: field names, field types and the JSON codec.

- ``types.py``: the field-type registry (wire decoding, CSV cells, storage, literals);
- ``catalog.py``: every field of each kind by its PascalCase wire name;
- ``codec.py``: records to and from the API's JSON objects (``generated.py``: its fast paths);
- ``times.py``: DMS wall-clock times and the filter language's time literals.

Nothing here imports from the layers above (query, store, api, io).
"""
