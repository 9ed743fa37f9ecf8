-- ABR ladder: each lower rung's newest IPFS media playlist CID, by playlist name
-- ({"playlist_480p.m3u8": "<cid>"}); the top rung's stays in playlist_cid. NULL for
-- single-rendition runs. GET /runs/{id}/ipfs/<name> redirects to them while live.
ALTER TABLE runs ADD COLUMN variant_cids jsonb;
