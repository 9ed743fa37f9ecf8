"""This L1 as an ActivityPub actor: its keys, HTTP Signatures, key fetching, documents."""
