"""REST API: Litestar routes, request/response models and error mapping."""
