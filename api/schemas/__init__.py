"""Typed request and response models of the API (msgspec Structs), one module per router.

Litestar validates request bodies against these models and derives the
OpenAPI document (``/docs/openapi.json``) from them, so their constraints and
descriptions are what the API enforces and documents. Each module also holds
the functions that build its response models from domain rows.
"""
