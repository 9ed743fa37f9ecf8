-- ABR ladder: the CID of a run's newest multivariant playlist on IPFS (master.m3u8,
-- listing every rendition's media playlist); NULL for single-rendition runs.
ALTER TABLE runs ADD COLUMN master_cid text;
