"""The API layer: each operation described once (``operations/``, in the vocabulary of
``spec.py``), read into a typed request (``request.py``, by the wire types of ``read.py``),
answered from a record source (``respond.py``), and every error mapped by the one catalogue of
service errors (``catalogue.py``). ``router.call`` is the one entry point, used by
:class:`dsc_engine.Engine` and the server."""
