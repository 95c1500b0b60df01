"""The API layer: one module per operation (wire params -> typed request -> AST -> store ->
wire response), the shared parameter coercions (``coerce``), error mapping (``messages``) and the
router (``router.call``), the one entry point used by :class:`dsc_engine.Engine`."""
