"""Content-addressed storage: CIDs, local cache, IPFS and S3 backends."""
